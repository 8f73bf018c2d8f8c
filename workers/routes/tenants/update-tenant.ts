import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { tenants } from "../../../db/schema";
import type { App } from "../../app";
import { requirePlatformAdmin } from "../../auth/platform-admin";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { tenantLimitsSchema } from "../../lib/limits";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadTenant } from "./load";
import { tenantDetailSchema, toTenantDetailResponse } from "./schemas";

const body = z
  .object({
    name: z.string().trim().min(1).max(200).optional().openapi({ example: "Acme Corp" }),
    status: z.enum(["active", "suspended"]).optional().openapi({
      description: "Suspended: the tenant's users can no longer sign in.",
      example: "suspended",
    }),
    limits: tenantLimitsSchema.optional().openapi({
      description:
        "The tenant's ceilings; replaces the stored set. A limit left out is capped only by the platform maximum. " +
        "Lowering a ceiling below the tenant's defaults or an agent's override is allowed: effective limits are capped at run time.",
    }),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "send at least one field")
  .openapi("UpdateTenantRequest");

const route = createRoute({
  operationId: "updateTenant",
  tags: ["tenants"],
  method: "patch",
  path: "/v1/tenants/{tenantId}",
  summary: "Rename, suspend or reactivate a tenant, or set its ceilings (platform admin)",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ tenantId: uuidParam("tenantId", "tenant") }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: {
      description: "The updated tenant.",
      content: { "application/json": { schema: tenantDetailSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 429, 500),
  },
});

export function registerUpdateTenant(app: App) {
  app.openapi(route, async (c) => {
    requirePlatformAdmin(c);
    const input = c.req.valid("json");
    const db = c.get("db");
    const current = await loadTenant(db, { forUpdate: true });
    const next = {
      name: input.name ?? current.name,
      status: input.status ?? current.status,
      limits: input.limits ?? current.limits,
    };
    const changed = (["name", "status", "limits"] as const).filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]),
    );
    if (changed.length === 0) return c.json(toTenantDetailResponse(current), 200);
    const [updated] = await db.update(tenants).set(next).where(eq(tenants.id, current.id)).returning();
    if (!updated) throw new ApiError("NOT_FOUND", { detail: `Tenant ${current.id} not found.` });
    await audit(c, {
      action: "tenant.update",
      resourceType: "tenant",
      resourceId: current.id,
      changes: Object.fromEntries(changed.map((k) => [k, next[k]])),
    });
    return c.json(toTenantDetailResponse(updated), 200);
  });
}
