import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { apiKeys } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant, type TenantFixture } from "../../../test/harness/fixtures";
import { hashApiKey } from "../../auth/api-keys";
import type { Role } from "../../auth/roles";
import { newId } from "../../lib/ids";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ApiKeyResponse, CreatedApiKeyResponse } from "./schemas";

interface ApiKeyPage {
  data: ApiKeyResponse[];
  nextCursor: string | null;
}

async function createKey(token: string, body: Record<string, unknown> = {}): Promise<CreatedApiKeyResponse> {
  const res = await api.post<CreatedApiKeyResponse>("/v1/api-keys", { token, body: { name: "ci", ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function listKeys(token: string, query = ""): Promise<ApiKeyResponse[]> {
  const res = await api.get<ApiKeyPage>(`/v1/api-keys${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data;
}

/** The status an API key gets on an ordinary authenticated read. */
async function statusWith(key: string): Promise<number> {
  return (await api.get("/v1/agents", { token: key })).status;
}

async function rotate(token: string, id: string, body?: { overlapSeconds: number }) {
  return api.post<CreatedApiKeyResponse & ProblemBody>(`/v1/api-keys/${id}/rotate`, { token, body });
}

describe("api keys", () => {
  it("creates a key shown once, lets it authenticate, and lists it without any secret", async () => {
    const { token } = await createTenant();
    const res = await api.post<CreatedApiKeyResponse>("/v1/api-keys", {
      token,
      body: { name: "ci-deploys" },
    });
    expect(res.status).toBe(201);
    const created = res.body;
    expect(created).toMatchObject({
      name: "ci-deploys",
      role: "member",
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      rotatedFromId: null,
      requestsPerMinute: null,
    });
    expect(created.prefix).toMatch(/^mk_[0-9a-f]{8}$/);
    expect(created.key.startsWith(`${created.prefix}_`)).toBe(true);
    expect(res.headers.get("location")).toBe(`/v1/api-keys/${created.id}`);

    expect(await statusWith(created.key)).toBe(200);

    const list = await api.get<ApiKeyPage>("/v1/api-keys", { token });
    expect(list.status).toBe(200);
    const listed = list.body.data.find((k) => k.id === created.id);
    expect(listed).toMatchObject({ id: created.id, prefix: created.prefix, name: "ci-deploys" });
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(await hashApiKey(created.key));
    for (const key of list.body.data) {
      expect(Object.keys(key).sort()).toEqual(
        [
          "createdAt",
          "expiresAt",
          "id",
          "lastUsedAt",
          "name",
          "prefix",
          "requestsPerMinute",
          "revokedAt",
          "role",
          "rotatedFromId",
        ].sort(),
      );
    }
  });

  it("keeps the expiry it is given", async () => {
    const { token } = await createTenant();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const created = await createKey(token, { expiresAt });
    expect(Date.parse(created.expiresAt ?? "")).toBe(Date.parse(expiresAt));
    expect(await statusWith(created.key)).toBe(200);
  });

  it.each<[Role, Role, number]>([
    ["member", "viewer", 201],
    ["member", "member", 201],
    ["member", "admin", 403],
    ["member", "owner", 403],
    ["admin", "admin", 201],
    ["admin", "owner", 403],
    ["owner", "owner", 201],
  ])("lets a %s create a %s key: %i", async (creator, requested, status) => {
    const fixture = await createTenant();
    const token = creator === "owner" ? fixture.token : await fixture.keyWithRole(creator);
    const res = await api.post<CreatedApiKeyResponse & ProblemBody>("/v1/api-keys", {
      token,
      body: { name: "delegated", role: requested },
    });
    expect(res.status).toBe(status);
    if (status === 201) expect(res.body.role).toBe(requested);
    else expect(res.body).toMatchObject({ code: "FORBIDDEN", status: 403 });
  });

  it("refuses an expiry in the past with 422 naming the field", async () => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/api-keys", {
      token,
      body: { name: "late", expiresAt: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: "UNPROCESSABLE" });
    expect(res.body.errors?.map((e) => e.path)).toEqual(["expiresAt"]);
  });

  it.each([
    ["no name", {}, "name"],
    ["an unknown role", { name: "x", role: "root" }, "role"],
    ["a malformed expiry", { name: "x", expiresAt: "tomorrow" }, "expiresAt"],
    ["an unknown field", { name: "x", hash: "abc" }, "(root)"],
  ])("rejects %s with a 400 naming the field", async (_label, body, path) => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/api-keys", { token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("revokes a key at once (204, then 401), idempotently, and lists it only with includeRevoked", async () => {
    const { token } = await createTenant();
    const kept = await createKey(token, { name: "kept" });
    const revoked = await createKey(token, { name: "revoked" });
    expect(await statusWith(revoked.key)).toBe(200);

    const first = await api.delete(`/v1/api-keys/${revoked.id}`, { token });
    expect(first.status).toBe(204);
    expect(first.body).toBe("");
    const refused = await api.get<ProblemBody>("/v1/agents", { token: revoked.key });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await api.delete(`/v1/api-keys/${revoked.id}`, { token })).status).toBe(204);

    expect((await listKeys(token)).map((k) => k.id)).toEqual([kept.id]);
    const all = await listKeys(token, "?includeRevoked=true");
    expect(all.map((k) => k.id)).toEqual([revoked.id, kept.id]);
    expect(all[0]?.revokedAt).not.toBeNull();
    expect(all[1]?.revokedAt).toBeNull();
    expect(await statusWith(kept.key)).toBe(200);
  });

  it("rotates: the new key works at once and the old one until the overlap ends", async () => {
    const { token } = await createTenant();
    const old = await createKey(token, { name: "deploys", role: "viewer" });
    const before = Date.now();
    const res = await rotate(token, old.id, { overlapSeconds: 600 });
    expect(res.status).toBe(201);
    const fresh = res.body;
    expect(fresh).toMatchObject({ name: "deploys", role: "viewer", rotatedFromId: old.id, expiresAt: null });
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.key.startsWith(`${fresh.prefix}_`)).toBe(true);

    expect(await statusWith(fresh.key)).toBe(200);
    expect(await statusWith(old.key)).toBe(200);
    const listed = await listKeys(token);
    expect(listed.map((k) => k.id)).toEqual([fresh.id, old.id]);
    const oldExpiry = Date.parse(listed[1]?.expiresAt ?? "");
    expect(oldExpiry).toBeGreaterThanOrEqual(before + 600_000 - 5_000);
    expect(oldExpiry).toBeLessThanOrEqual(Date.now() + 600_000 + 5_000);
  });

  it("rotates with the default overlap of an hour when sent no body", async () => {
    const { token } = await createTenant();
    const old = await createKey(token);
    const res = await rotate(token, old.id);
    expect(res.status).toBe(201);
    expect(await statusWith(old.key)).toBe(200);
    const oldRow = (await listKeys(token)).find((k) => k.id === old.id);
    expect(Date.parse(oldRow?.expiresAt ?? "") - Date.now()).toBeGreaterThan(3_500_000);
  });

  it("rotates with overlapSeconds 0: the old key stops at once and cannot be rotated again", async () => {
    const { token } = await createTenant();
    const old = await createKey(token);
    const res = await rotate(token, old.id, { overlapSeconds: 0 });
    expect(res.status).toBe(201);
    expect(await statusWith(res.body.key)).toBe(200);
    const refused = await api.get<ProblemBody>("/v1/agents", { token: old.key });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("UNAUTHENTICATED");

    const again = await rotate(token, old.id);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
  });

  it("refuses to rotate a revoked key with 409", async () => {
    const { token } = await createTenant();
    const key = await createKey(token);
    await api.delete(`/v1/api-keys/${key.id}`, { token });
    const res = await rotate(token, key.id);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: "CONFLICT" });
    expect((await listKeys(token, "?includeRevoked=true")).map((k) => k.id)).toEqual([key.id]);
  });

  it("refuses a key once its expiry has passed", async () => {
    const { token, tenant } = await createTenant();
    const key = await createKey(token, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(await statusWith(key.key)).toBe(200);
    // Backdated rather than waited for: no test sleeps until a deadline.
    await withTenantDb(tenant.id, (db) =>
      db
        .update(apiKeys)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(apiKeys.id, key.id)),
    );
    const res = await api.get<ProblemBody>("/v1/agents", { token: key.key });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("UNAUTHENTICATED");
    expect((await rotate(token, key.id)).status).toBe(409);
  });

  it("records the last use: null when fresh, a timestamp after one use, at most once a minute", async () => {
    const { token } = await createTenant();
    const key = await createKey(token);
    expect((await listKeys(token)).find((k) => k.id === key.id)?.lastUsedAt).toBeNull();

    const before = Date.now();
    expect(await statusWith(key.key)).toBe(200);
    const used = (await listKeys(token)).find((k) => k.id === key.id)?.lastUsedAt;
    expect(used).toEqual(expect.any(String));
    expect(Math.abs(Date.parse(used ?? "") - before)).toBeLessThan(60_000);

    expect(await statusWith(key.key)).toBe(200);
    expect((await listKeys(token)).find((k) => k.id === key.id)?.lastUsedAt).toBe(used);
  });

  it("is invisible across tenants: 404 on revoke and rotate, absent from lists", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const key = await createKey(a.token);
    await createKey(b.token, { name: "b's own" });

    for (const res of [
      await api.delete<ProblemBody>(`/v1/api-keys/${key.id}`, { token: b.token }),
      await rotate(b.token, key.id),
      await rotate(b.token, key.id, { overlapSeconds: 0 }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: "NOT_FOUND" });
    }
    const bKeys = await listKeys(b.token, "?includeRevoked=true");
    expect(bKeys.map((k) => k.name)).toEqual(["b's own"]);
    expect(JSON.stringify(bKeys)).not.toContain(key.prefix);

    const aKeys = await listKeys(a.token);
    expect(aKeys.find((k) => k.id === key.id)).toMatchObject({ revokedAt: null, expiresAt: null });
    expect(await statusWith(key.key)).toBe(200);
  });

  it("answers 404 for a key id that does not exist", async () => {
    const { token } = await createTenant();
    const id = newId();
    expect((await api.delete<ProblemBody>(`/v1/api-keys/${id}`, { token })).body.code).toBe("NOT_FOUND");
    expect((await rotate(token, id)).status).toBe(404);
  });

  describe("authorization", () => {
    async function keyOf(fixture: TenantFixture): Promise<string> {
      return (await createKey(fixture.token)).id;
    }

    it("requires a credential on every route", async () => {
      const id = newId();
      await expectAuthRequired({ method: "get", path: "/v1/api-keys" });
      await expectAuthRequired({ method: "post", path: "/v1/api-keys", body: { name: "x" } });
      await expectAuthRequired({ method: "delete", path: `/v1/api-keys/${id}` });
      await expectAuthRequired({ method: "post", path: `/v1/api-keys/${id}/rotate`, body: {} });
    });

    it("lets members and above read and manage keys, never viewers", async () => {
      const fixture = await createTenant();
      const roles: { allowed: Role[]; denied: Role[] } = {
        allowed: ["owner", "admin", "member"],
        denied: ["viewer"],
      };
      await expectRoles(fixture, { method: "get", path: "/v1/api-keys" }, roles);
      await expectRoles(
        fixture,
        { method: "post", path: "/v1/api-keys", body: { name: "x", role: "viewer" } },
        roles,
      );
      await expectRoles(fixture, { method: "delete", path: `/v1/api-keys/${await keyOf(fixture)}` }, roles);
      await expectRoles(
        fixture,
        { method: "post", path: `/v1/api-keys/${await keyOf(fixture)}/rotate`, body: {} },
        roles,
      );
    });
  });
});
