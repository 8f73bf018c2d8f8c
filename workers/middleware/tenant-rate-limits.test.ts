import { describe, expect, it } from "vitest";
import { apiKeys } from "../../db/schema";
import { api, type ProblemBody } from "../../test/harness/api";
import { createTenant, PLATFORM_ADMIN_TOKEN } from "../../test/harness/fixtures";
import { mintApiKey } from "../auth/api-keys";
import type { CreatedApiKeyResponse } from "../routes/api-keys/schemas";
import { withTenantDb } from "../routes/conversations/test-fixtures";

/**
 * Waits out the last seconds of a minute before a test counts requests. Windows are aligned to
 * the minute, and the sliding window weighs the previous one's count down (rounding down) as
 * soon as a new one starts, so a run of requests across the edge could get one request more
 * than its limit. At most 3 s, in about one run in twenty.
 */
async function clearOfWindowEdge(): Promise<void> {
  const intoWindow = Date.now() % 60_000;
  if (intoWindow > 57_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoWindow + 50));
}

/** The statuses of `count` ordinary authenticated reads, one after another. */
async function reads(token: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await api.get("/v1/agents", { token })).status);
  return statuses;
}

async function createKey(token: string, body: Record<string, unknown> = {}): Promise<CreatedApiKeyResponse> {
  const res = await api.post<CreatedApiKeyResponse>("/v1/api-keys", {
    token,
    body: { name: "limited", ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Keys made straight in the database, so a test with a tiny limit need not spend it making them. */
async function insertKeys(tenantId: string, count: number): Promise<string[]> {
  const minted = await Promise.all(Array.from({ length: count }, () => mintApiKey()));
  await withTenantDb(tenantId, (db) =>
    db
      .insert(apiKeys)
      .values(minted.map((m) => ({ tenantId, name: "inserted", prefix: m.prefix, keyHash: m.hash }))),
  );
  return minted.map((m) => m.plaintext);
}

/** Limits per tenant (its effective `requestsPerMinute`) and per API key (the key's own). */
describe("tenant and key rate limits", () => {
  it("limits a tenant's keys to its requestsPerMinute, and no other tenant", async () => {
    const low = await createTenant({ limits: { requestsPerMinute: 3 } });
    const other = await createTenant();
    const key = await low.keyWithRole("member");
    const otherKey = await other.keyWithRole("member");
    await clearOfWindowEdge();

    const allowed = await api.get("/v1/agents", { token: key });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("ratelimit-policy")).toBe('"credential";q=3;w=60, "tenant";q=15;w=60');
    expect(await reads(key, 2)).toEqual([200, 200]);

    const refused = await api.get<ProblemBody>("/v1/agents", { token: key });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: "RATE_LIMITED", status: 429 });
    expect(refused.body.detail).toContain("of 3 per 60s");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("ratelimit-policy")).toBe('"credential";q=3;w=60');

    const elsewhere = await api.get("/v1/agents", { token: otherKey });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get("ratelimit-policy")).toBe('"credential";q=600;w=60, "tenant";q=3000;w=60');
  });

  it("takes the tenant's own default when it sets one below the ceiling", async () => {
    const fixture = await createTenant({
      limits: { requestsPerMinute: 100 },
      settings: { defaultLimits: { requestsPerMinute: 2 } },
    });
    const [key = ""] = await insertKeys(fixture.tenant.id, 1);
    await clearOfWindowEdge();
    expect(await reads(key, 3)).toEqual([200, 200, 429]);
  });

  it("shares five times the tenant's limit across its credentials", async () => {
    const fixture = await createTenant({ limits: { requestsPerMinute: 2 } });
    const keys = await insertKeys(fixture.tenant.id, 6);
    await clearOfWindowEdge();
    for (const key of keys.slice(0, 5)) expect(await reads(key, 2)).toEqual([200, 200]);

    const refused = await api.get<ProblemBody>("/v1/agents", { token: keys[5] });
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain('"tenant" of 10 per 60s');
    expect(refused.headers.get("ratelimit-policy")).toBe('"credential";q=2;w=60, "tenant";q=10;w=60');
  });

  it("limits a key to its own requestsPerMinute, shows it, and keeps it across rotation", async () => {
    const fixture = await createTenant();
    const created = await createKey(fixture.token, { requestsPerMinute: 2 });
    expect(created.requestsPerMinute).toBe(2);
    const listed = await api.get<{ data: CreatedApiKeyResponse[] }>("/v1/api-keys", { token: fixture.token });
    expect(listed.body.data.find((k) => k.id === created.id)?.requestsPerMinute).toBe(2);
    await clearOfWindowEdge();

    const first = await api.get("/v1/agents", { token: created.key });
    expect(first.headers.get("ratelimit-policy")).toBe('"credential";q=2;w=60, "tenant";q=3000;w=60');
    expect([first.status, ...(await reads(created.key, 2))]).toEqual([200, 200, 429]);
    // The key's limit is its own: the tenant's other credentials go on.
    expect(await reads(fixture.token, 1)).toEqual([200]);

    const rotated = await api.post<CreatedApiKeyResponse>(`/v1/api-keys/${created.id}/rotate`, {
      token: fixture.token,
      body: { overlapSeconds: 0 },
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body.requestsPerMinute).toBe(2);
  });

  it.each([
    ["above the ceiling", { limits: { requestsPerMinute: 100 } }, 101, 100],
    ["above the tenant's default", { settings: { defaultLimits: { requestsPerMinute: 50 } } }, 51, 50],
    ["above the platform default", {}, 601, 600],
  ])("refuses a key limit %s with 422 naming the field", async (_label, opts, over, most) => {
    const fixture = await createTenant(opts);
    const res = await api.post<ProblemBody>("/v1/api-keys", {
      token: fixture.token,
      body: { name: "greedy", requestsPerMinute: over },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: "UNPROCESSABLE" });
    expect(res.body.errors).toEqual([
      { path: "requestsPerMinute", message: `exceeds the tenant's requests per minute (${most})` },
    ]);
    expect((await createKey(fixture.token, { requestsPerMinute: most })).requestsPerMinute).toBe(most);
  });

  it.each([0, -1, 1.5, "10"])("rejects a key limit of %j with 400", async (value) => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/api-keys", {
      token,
      body: { name: "odd", requestsPerMinute: value },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.map((e) => e.path)).toContain("requestsPerMinute");
  });

  it("limits a user session by its tenant's requestsPerMinute", async () => {
    const low = await createTenant({ limits: { requestsPerMinute: 3 } });
    const other = await createTenant();
    await clearOfWindowEdge();

    const first = await api.get("/v1/agents", { token: low.token });
    expect(first.headers.get("ratelimit-policy")).toBe('"credential";q=3;w=60, "tenant";q=15;w=60');
    expect([first.status, ...(await reads(low.token, 3))]).toEqual([200, 200, 200, 429]);
    expect(await reads(other.token, 1)).toEqual([200]);
  });

  it("applies a changed tenant limit to a key from its next lookup", async () => {
    const fixture = await createTenant();
    const key = await fixture.keyWithRole("member");
    await clearOfWindowEdge();
    expect(await reads(key, 1)).toEqual([200]);
    const patched = await api.patch(`/v1/tenants/${fixture.tenant.id}`, {
      token: PLATFORM_ADMIN_TOKEN,
      body: { limits: { requestsPerMinute: 2 } },
    });
    expect(patched.status).toBe(200);
    // The request after the change is counted under the limit this isolate knew; its lookup
    // brings the new one, which the next request meets (two made in the window by then).
    expect(await reads(key, 1)).toEqual([200]);
    const refused = await api.get("/v1/agents", { token: key });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-policy")).toBe('"credential";q=2;w=60');
  });
});
