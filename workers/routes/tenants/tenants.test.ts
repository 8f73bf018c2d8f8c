import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant, PLATFORM_ADMIN_TOKEN } from "../../../test/harness/fixtures";
import { newId } from "../../lib/ids";
import { PLATFORM_DEFAULTS } from "../../lib/limits";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import type { TenantDetailResponse } from "./schemas";

const admin = PLATFORM_ADMIN_TOKEN;

describe("tenants (platform admin)", () => {
  it("reads any tenant by id", async () => {
    const { tenant } = await createTenant({ limits: { requestsPerMinute: 100 } });
    const res = await api.get<TenantDetailResponse>(`/v1/tenants/${tenant.id}`, { token: admin });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...tenant, limits: { requestsPerMinute: 100 } });
    expect(res.body.effectiveLimits).toEqual({ ...PLATFORM_DEFAULTS, requestsPerMinute: 100 });
  });

  it("renames, sets ceilings, suspends and reactivates; each change is audited", async () => {
    const fixture = await createTenant({ settings: { defaultLimits: { maxTokens: 3000 } } });
    const { tenant, token } = fixture;
    const path = `/v1/tenants/${tenant.id}`;

    const patched = await api.patch<TenantDetailResponse>(path, {
      token: admin,
      body: { name: "Acme (enterprise)", limits: { maxTokens: 2000, maxConcurrentExecutions: 50 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: "Acme (enterprise)",
      limits: { maxTokens: 2000, maxConcurrentExecutions: 50 },
      settings: { defaultLimits: { maxTokens: 3000 } },
    });
    // The tenant's default is above the new ceiling: the ceiling wins.
    expect(patched.body.effectiveLimits).toMatchObject({ maxTokens: 2000, maxConcurrentExecutions: 10 });
    const own = await api.get<TenantDetailResponse>("/v1/tenant", { token });
    expect(own.body.limits).toEqual({ maxTokens: 2000, maxConcurrentExecutions: 50 });

    const log = await api.get<ListAuditLogsResponse>(`/v1/audit-logs?action=tenant.update`, { token });
    expect(log.body.data).toHaveLength(1);
    expect(log.body.data[0]).toMatchObject({
      actorType: "platform_admin",
      actorId: null,
      resourceType: "tenant",
      resourceId: tenant.id,
      changes: { name: "Acme (enterprise)", limits: { maxTokens: 2000, maxConcurrentExecutions: 50 } },
    });

    const suspended = await api.patch<TenantDetailResponse>(path, {
      token: admin,
      body: { status: "suspended" },
    });
    expect(suspended.body.status).toBe("suspended");
    const login = { tenant: tenant.slug, email: fixture.owner.email, password: fixture.owner.password };
    expect((await api.post("/v1/auth/login", { body: login })).status).toBe(401);

    await api.patch(path, { token: admin, body: { status: "active" } });
    expect((await api.post("/v1/auth/login", { body: login })).status).toBe(200);

    const cleared = await api.patch<TenantDetailResponse>(path, { token: admin, body: { limits: {} } });
    expect(cleared.body.limits).toEqual({});
    expect(cleared.body.effectiveLimits.maxTokens).toBe(3000);
  });

  it("answers 404 for a tenant that does not exist", async () => {
    const id = newId();
    for (const res of [
      await api.get<ProblemBody>(`/v1/tenants/${id}`, { token: admin }),
      await api.patch<ProblemBody>(`/v1/tenants/${id}`, { token: admin, body: { name: "x" } }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
  });

  it.each([
    ["an unknown status", { status: "deleted" }, "status"],
    ["an unknown limit", { limits: { gpus: 1 } }, "limits"],
    ["a fractional limit", { limits: { maxTokens: 1.5 } }, "limits.maxTokens"],
    ["a slug change", { slug: "new" }, "(root)"],
    ["settings (the tenant's own)", { settings: {} }, "(root)"],
    ["an empty body", {}, "(root)"],
  ])("rejects %s with a 400 naming the field", async (_label, body, path) => {
    const { tenant } = await createTenant();
    const res = await api.patch<ProblemBody>(`/v1/tenants/${tenant.id}`, { token: admin, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("is forbidden to every tenant principal, on its own tenant and on others", async () => {
    const a = await createTenant();
    const b = await createTenant();
    for (const id of [a.tenant.id, b.tenant.id]) {
      await expectRoles(
        a,
        { method: "get", path: `/v1/tenants/${id}` },
        { allowed: [], denied: ["owner", "admin", "member", "viewer"] },
      );
      await expectRoles(
        a,
        { method: "patch", path: `/v1/tenants/${id}`, body: { limits: { maxTokens: 200_000 } } },
        { allowed: [], denied: ["owner", "admin", "member", "viewer"] },
      );
      const ownerAttempt = await api.patch<ProblemBody>(`/v1/tenants/${id}`, {
        token: a.token,
        body: { status: "active" },
      });
      expect(ownerAttempt.status).toBe(403);
    }
    const untouched = await api.get<TenantDetailResponse>(`/v1/tenants/${a.tenant.id}`, { token: admin });
    expect(untouched.body.limits).toEqual({});
  });

  it("requires a credential", async () => {
    const { tenant } = await createTenant();
    await expectAuthRequired({ method: "get", path: `/v1/tenants/${tenant.id}` });
    await expectAuthRequired({ method: "patch", path: `/v1/tenants/${tenant.id}`, body: { name: "x" } });
  });
});
