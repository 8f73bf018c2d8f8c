import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, type ProblemBody, randomIp } from "../../../test/harness/api";
import worker from "../../index";
import { POLICIES } from "../../lib/rate-limit";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import type { TokenPair } from "../auth/schemas";
import type { SignupResponse } from "./signup";

/** The test env leaves ALLOW_SIGNUP off; this one turns it on (one object, parsed once). */
const signupEnv = { ...env, ALLOW_SIGNUP: "true" } as typeof env;

function newSignup() {
  const slug = `s-${crypto.randomUUID().slice(0, 12)}`;
  return {
    slug,
    name: `Signup ${slug}`,
    owner: { email: `founder@${slug}.example.com`, name: "Founder", password: `pw-${crypto.randomUUID()}` },
  };
}

/** POST /v1/signup to the Worker with signup enabled. */
async function signup<T = SignupResponse & ProblemBody>(
  body: unknown,
  opts: { ip?: string; raw?: string; env?: typeof env } = {},
): Promise<{ status: number; headers: Headers; body: T }> {
  const ctx = createExecutionContext();
  const request = new Request("https://api.meridian.test/v1/signup", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": opts.ip ?? randomIp() },
    body: opts.raw ?? JSON.stringify(body),
  }) as Request<unknown, IncomingRequestCfProperties>;
  const res = await worker.fetch(request, opts.env ?? signupEnv, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

describe("signup", () => {
  describe("when ALLOW_SIGNUP is off (the default)", () => {
    it.each([
      ["a valid body", newSignup()],
      ["an invalid body", { slug: "NOT A SLUG" }],
    ])("answers %s with 404 as if the route did not exist", async (_label, body) => {
      const res = await api.post<ProblemBody>("/v1/signup", { body });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.body).toMatchObject({ code: "NOT_FOUND", detail: "No route matches this path." });
      expect(res.headers.get("ratelimit")).toBeNull();
    });

    it("stays closed in production even with ALLOW_SIGNUP set", async () => {
      const production = { ...signupEnv, ENVIRONMENT: "production" } as typeof env;
      const res = await signup<ProblemBody>(newSignup(), { env: production });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    });

    it("creates nothing", async () => {
      const input = newSignup();
      expect((await api.post("/v1/signup", { body: input })).status).toBe(404);
      const login = await api.post<ProblemBody>("/v1/auth/login", {
        body: { tenant: input.slug, email: input.owner.email, password: input.owner.password },
      });
      expect(login.status).toBe(401);
    });
  });

  describe("when ALLOW_SIGNUP is on", () => {
    it("creates the tenant and its owner, who can then log in; the owner is the audited actor", async () => {
      const input = newSignup();
      const res = await signup(input);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({
        tenant: { slug: input.slug, name: input.name, status: "active", limits: {}, settings: {} },
        owner: { email: input.owner.email, role: "owner" },
      });
      expect(res.headers.get("ratelimit-policy")).toBe(
        `"ip";q=${POLICIES.ip.limit};w=${POLICIES.ip.windowSeconds}`,
      );
      expect(JSON.stringify(res.body)).not.toContain(input.owner.password);

      const login = await api.post<TokenPair>("/v1/auth/login", {
        body: { tenant: input.slug, email: input.owner.email, password: input.owner.password },
      });
      expect(login.status).toBe(200);
      const token = login.body.accessToken;
      const own = await api.get<{ id: string; slug: string }>("/v1/tenant", { token });
      expect(own.body).toMatchObject({ id: res.body.tenant.id, slug: input.slug });

      const log = await api.get<ListAuditLogsResponse>("/v1/audit-logs?action=tenant.create", { token });
      expect(log.body.data).toHaveLength(1);
      expect(log.body.data[0]).toMatchObject({
        actorType: "user",
        actorId: res.body.owner.id,
        resourceType: "tenant",
        resourceId: res.body.tenant.id,
        changes: { slug: input.slug },
      });
    });

    it("refuses a taken slug with 409", async () => {
      const input = newSignup();
      expect((await signup(input)).status).toBe(201);
      const again = await signup({ ...newSignup(), slug: input.slug });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: "CONFLICT" });
    });

    it.each([
      ["limits (the platform admin's)", { limits: { maxTokens: 1 } }, "(root)"],
      ["settings", { settings: {} }, "(root)"],
      ["a bad slug", { slug: "Not A Slug" }, "slug"],
      ["a short password", { owner: { email: "a@example.com", password: "short" } }, "owner.password"],
    ])("rejects %s with a 400 naming the field", async (_label, override, path) => {
      const res = await signup({ ...newSignup(), ...override });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
      expect(res.body.errors?.map((e) => e.path)).toContain(path);
    });

    it("rejects malformed JSON with 400", async () => {
      const res = await signup(undefined, { raw: "{not json" });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: "MALFORMED_JSON" });
    });

    it("limits attempts per client IP with a 429 problem and Retry-After", async () => {
      const ip = randomIp();
      // Invalid bodies count too (the limit runs before validation) and cost no password hash.
      const statuses: number[] = [];
      for (let i = 0; i < POLICIES.ip.limit; i += 20) {
        const batch = Array.from({ length: 20 }, () => signup({}, { ip }));
        statuses.push(...(await Promise.all(batch)).map((r) => r.status));
      }
      expect(statuses.every((s) => s === 400)).toBe(true);
      const limited = await signup(newSignup(), { ip });
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ code: "RATE_LIMITED", status: 429 });
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);

      expect((await signup(newSignup(), { ip: randomIp() })).status).toBe(201);
    });
  });
});
