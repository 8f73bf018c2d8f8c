import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { tenants } from "../../../db/schema";
import type { App } from "../../app";
import { requirePlatformAdmin } from "../../auth/platform-admin";
import { audit } from "../../lib/audit";
import { type TenantLimitsInput, tenantLimitsSchema } from "../../lib/limits";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { configuredQuotasSchema, quotaReport } from "../../quotas/report";
import { loadTenant } from "./load";

const params = z.object({ tenantId: uuidParam("tenantId", "tenant") });
const ok = {
  description: "The stored ceilings and quotas, and the tenant's use of them this month.",
  content: { "application/json": { schema: configuredQuotasSchema } },
};

const getRoute = createRoute({
  operationId: "getTenantQuotas",
  tags: ["tenants"],
  method: "get",
  path: "/v1/tenants/{tenantId}/quotas",
  summary: "A tenant's ceilings and quotas, with its use of them (platform admin)",
  security: [{ bearer: [] }],
  request: { params },
  responses: { 200: ok, ...problemResponses(400, 401, 403, 404, 429, 500) },
});

const putRoute = createRoute({
  operationId: "putTenantQuotas",
  tags: ["tenants"],
  method: "put",
  path: "/v1/tenants/{tenantId}/quotas",
  summary: "Replace a tenant's ceilings and quotas (platform admin)",
  description:
    "The body is the whole set: a limit or quota left out is removed (a ceiling then falls back to the " +
    "platform maximum, a quota to unlimited). Lowering a quota below current use refuses new work, never " +
    "deletes existing resources.",
  security: [{ bearer: [] }],
  request: {
    params,
    body: { required: true, content: { "application/json": { schema: tenantLimitsSchema } } },
  },
  responses: { 200: ok, ...problemResponses(400, 401, 403, 404, 413, 429, 500) },
});

export function registerTenantQuotas(app: App) {
  app.openapi(getRoute, async (c) => {
    requirePlatformAdmin(c);
    const db = c.get("db");
    const tenant = await loadTenant(db);
    return c.json(
      { configured: tenant.limits as TenantLimitsInput, report: await quotaReport(db, tenant) },
      200,
    );
  });

  app.openapi(putRoute, async (c) => {
    requirePlatformAdmin(c);
    const limits = c.req.valid("json");
    const db = c.get("db");
    const current = await loadTenant(db, { forUpdate: true });
    const [updated] = await db.update(tenants).set({ limits }).where(eq(tenants.id, current.id)).returning();
    if (!updated) throw new Error("tenant update returned no row");
    if (JSON.stringify(limits) !== JSON.stringify(current.limits)) {
      await audit(c, {
        action: "tenant.quotas.update",
        resourceType: "tenant",
        resourceId: current.id,
        changes: { before: current.limits, after: limits },
      });
    }
    return c.json(
      { configured: updated.limits as TenantLimitsInput, report: await quotaReport(db, updated) },
      200,
    );
  });
}
