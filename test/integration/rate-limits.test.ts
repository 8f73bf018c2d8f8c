import { describe, expect, it } from "vitest";
import { POLICIES } from "../../workers/lib/rate-limit";
import { api, fetchWithBindings, type ProblemBody } from "../harness/api";
import { createTenant } from "../harness/fixtures";

/** Calls the Worker with Redis pointed at a port where nothing listens. */
function withRedisDown(path: string, init: RequestInit = {}): Promise<Response> {
  return fetchWithBindings(path, init, { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" });
}

describe("rate limits", () => {
  it("send IETF RateLimit headers on every authenticated answer", async () => {
    const { token } = await createTenant();
    const res = await api.get("/v1/agents", { token });
    expect(res.status).toBe(200);
    // Both policies the request was counted against, each with what is left of it.
    expect(res.headers.get("ratelimit-policy")).toMatch(/^"credential";q=600;w=60, "tenant";q=3000;w=60$/);
    expect(res.headers.get("ratelimit")).toMatch(/^"credential";r=\d+;t=\d+, "tenant";r=\d+;t=\d+$/);
  });

  it("refuse the login beyond the per-account policy with a 429 problem and Retry-After", async () => {
    const fixture = await createTenant();
    const body = { tenant: fixture.tenant.slug, email: fixture.owner.email, password: "wrong-password-123" };
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof api.post<ProblemBody>>> | undefined;
    // The fixture already logged in once.
    for (let i = 0; i < POLICIES.login.limit; i++) {
      last = await api.post<ProblemBody>("/v1/auth/login", { body });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(last?.status).toBe(429);
    expect(last?.body).toMatchObject({ code: "RATE_LIMITED", status: 429 });
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(last?.headers.get("ratelimit")).toMatch(/^"ip";r=\d+;t=\d+, "login";r=0;t=\d+$/);
    // The right password is refused too while the account is limited.
    const locked = await api.post("/v1/auth/login", { body: { ...body, password: fixture.owner.password } });
    expect(locked.status).toBe(429);
  });
});

describe("when Redis is unreachable", () => {
  it("API keys keep working: the limiter fails open and says nothing", async () => {
    const fixture = await createTenant();
    const key = await fixture.keyWithRole("member");
    const res = await withRedisDown("/v1/agents", { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit")).toBeNull();
  });

  it("access tokens keep working too: sessions are checked in PostgreSQL, not Redis", async () => {
    const { token } = await createTenant();
    const res = await withRedisDown("/v1/agents", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it("readiness reports the failure", async () => {
    const res = await withRedisDown("/health/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: "degraded",
      database: { ok: true },
      redis: { ok: false },
    });
  });
});
