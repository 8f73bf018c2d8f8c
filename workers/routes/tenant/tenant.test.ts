import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant, PLATFORM_ADMIN_TOKEN } from "../../../test/harness/fixtures";
import { PLATFORM_DEFAULTS, PLATFORM_MAXIMA } from "../../lib/limits";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import type { TenantDetailResponse } from "../tenants/schemas";

describe("the caller's tenant", () => {
  it("reads the tenant with its ceilings and the effective limits", async () => {
    const { token, tenant } = await createTenant({
      limits: { maxTokens: 1000 },
      settings: { defaultLimits: { maxToolIterations: 3 } },
    });
    const res = await api.get<TenantDetailResponse>("/v1/tenant", { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: tenant.id,
      slug: tenant.slug,
      name: tenant.name,
      status: "active",
      limits: { maxTokens: 1000 },
      settings: { defaultLimits: { maxToolIterations: 3 } },
    });
    expect(res.body.effectiveLimits).toEqual({
      ...PLATFORM_DEFAULTS,
      maxTokens: 1000,
      maxToolIterations: 3,
    });
  });

  it("changes name and settings; null removes a setting; the change is audited", async () => {
    const { token } = await createTenant();
    const patched = await api.patch<TenantDetailResponse>("/v1/tenant", {
      token,
      body: {
        name: "Renamed Inc",
        settings: {
          allowedModels: ["claude-haiku-4-5"],
          defaultLimits: { maxTokens: 2048 },
          named: { REGION: "eu", RETRIES: 3 },
        },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: "Renamed Inc",
      settings: {
        allowedModels: ["claude-haiku-4-5"],
        defaultLimits: { maxTokens: 2048 },
        named: { REGION: "eu", RETRIES: 3 },
      },
    });
    expect(patched.body.effectiveLimits.maxTokens).toBe(2048);
    expect(await api.get("/v1/tenant", { token })).toMatchObject({ body: patched.body });

    const cleared = await api.patch<TenantDetailResponse>("/v1/tenant", {
      token,
      body: { settings: { allowedModels: null, named: { REGION: "us" } } },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.settings).toEqual({ defaultLimits: { maxTokens: 2048 }, named: { REGION: "us" } });

    const log = await api.get<ListAuditLogsResponse>("/v1/audit-logs?action=tenant.update", { token });
    expect(log.body.data.map((e) => e.changes)).toEqual([
      { fields: ["settings.allowedModels", "settings.named"], allowedModels: null, namedKeys: ["REGION"] },
      {
        fields: ["name", "settings.allowedModels", "settings.defaultLimits", "settings.named"],
        name: "Renamed Inc",
        allowedModels: ["claude-haiku-4-5"],
        defaultLimits: { maxTokens: 2048 },
        namedKeys: ["REGION", "RETRIES"],
      },
    ]);
    // Named setting values stay out of the audit trail.
    expect(JSON.stringify(log.body)).not.toContain('"eu"');
  });

  it("writes nothing for a PATCH that changes nothing", async () => {
    const { token, tenant } = await createTenant();
    const res = await api.patch<TenantDetailResponse>("/v1/tenant", { token, body: { name: tenant.name } });
    expect(res.status).toBe(200);
    expect(res.body.updatedAt).toBe(tenant.updatedAt);
    const log = await api.get<ListAuditLogsResponse>("/v1/audit-logs?action=tenant.update", { token });
    expect(log.body.data).toEqual([]);
  });

  it.each([
    [
      "above the tenant's ceiling",
      { maxTokens: 1000 },
      { maxTokens: 1001 },
      "settings.defaultLimits.maxTokens",
    ],
    [
      "above the platform maximum",
      {},
      { maxToolIterations: PLATFORM_MAXIMA.maxToolIterations + 1 },
      "settings.defaultLimits.maxToolIterations",
    ],
  ])("refuses default limits %s with 422", async (_label, ceiling, defaultLimits, path) => {
    const { token } = await createTenant({ limits: ceiling });
    const res = await api.patch<ProblemBody>("/v1/tenant", { token, body: { settings: { defaultLimits } } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: "UNPROCESSABLE" });
    expect(res.body.errors?.map((e) => e.path)).toEqual([path]);
    const unchanged = await api.get<TenantDetailResponse>("/v1/tenant", { token });
    expect(unchanged.body.settings).toEqual({});
  });

  it("refuses an allowed model the platform does not offer with 422", async () => {
    const { token } = await createTenant();
    const res = await api.patch<ProblemBody>("/v1/tenant", {
      token,
      body: { settings: { allowedModels: ["claude-haiku-4-5", "gpt-9"] } },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.path)).toEqual(["settings.allowedModels.1"]);
  });

  it.each([
    ["platform-set limits", { limits: { maxTokens: 1 } }, "(root)"],
    ["the slug", { slug: "other" }, "(root)"],
    ["the status", { status: "active" }, "(root)"],
    ["an empty body", {}, "(root)"],
    ["a blank name", { name: "  " }, "name"],
    ["an unknown setting", { settings: { theme: "dark" } }, "settings"],
    ["an unknown limit", { settings: { defaultLimits: { gpus: 2 } } }, "settings.defaultLimits"],
    [
      "a negative limit",
      { settings: { defaultLimits: { maxTokens: -1 } } },
      "settings.defaultLimits.maxTokens",
    ],
    ["a bad named-setting key", { settings: { named: { "not a name": 1 } } }, "settings.named.not a name"],
  ])("rejects %s with a 400 naming the field", async (_label, body, path) => {
    const { token } = await createTenant();
    const res = await api.patch<ProblemBody>("/v1/tenant", { token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED", instance: "/v1/tenant" });
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("only ever shows and changes the caller's own tenant", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await api.patch("/v1/tenant", { token: a.token, body: { name: "A only" } });
    const seenByB = await api.get<TenantDetailResponse>("/v1/tenant", { token: b.token });
    expect(seenByB.body).toMatchObject({ id: b.tenant.id, name: b.tenant.name });
    // The platform admin has no tenant of its own; it uses /v1/tenants/{tenantId}.
    const admin = await api.get<ProblemBody>("/v1/tenant", { token: PLATFORM_ADMIN_TOKEN });
    expect(admin.status).toBe(403);
    expect(admin.body.code).toBe("FORBIDDEN");
  });

  it("requires a credential and the right role", async () => {
    const fixture = await createTenant();
    await expectAuthRequired({ method: "get", path: "/v1/tenant" });
    await expectAuthRequired({ method: "patch", path: "/v1/tenant", body: { name: "x" } });
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/tenant" },
      { allowed: ["owner", "admin", "member", "viewer"], denied: [] },
    );
    await expectRoles(
      fixture,
      { method: "patch", path: "/v1/tenant", body: { name: "Renamed" } },
      { allowed: ["owner", "admin"], denied: ["member", "viewer"] },
    );
  });
});
