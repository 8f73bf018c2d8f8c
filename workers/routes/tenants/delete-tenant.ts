import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { tenants } from "../../../db/schema";
import type { App } from "../../app";
import { requirePlatformAdmin } from "../../auth/platform-admin";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { afterCommit } from "../../middleware/tenant-db";
import { loadTenant } from "./load";

const accepted = z
  .object({
    id: z.string().uuid(),
    status: z.literal("erasing"),
    deletedAt: z.string().datetime(),
  })
  .openapi("TenantDeletion");

const route = createRoute({
  operationId: "deleteTenant",
  tags: ["tenants"],
  method: "delete",
  path: "/v1/tenants/{tenantId}",
  summary: "Delete a tenant and erase all of its data (platform admin)",
  description:
    "The tenant stops at once: sign-ins, sessions and API keys are refused. A job then erases its data everywhere " +
    "Meridian keeps it (PostgreSQL, the documents bucket, Durable Object storage, Redis); audit rows and usage " +
    "records stay, anonymised, for the retention period (docs/data-model.md). Export first: exports are erased too.",
  security: [{ bearer: [] }],
  request: { params: z.object({ tenantId: uuidParam("tenantId", "tenant") }) },
  responses: {
    202: {
      description: "Deleted; the erasure is under way.",
      content: { "application/json": { schema: accepted } },
    },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerDeleteTenant(app: App) {
  app.openapi(route, async (c) => {
    requirePlatformAdmin(c);
    const db = c.get("db");
    const tenant = await loadTenant(db, { forUpdate: true });
    const deletedAt = new Date();
    await db.update(tenants).set({ deletedAt }).where(eq(tenants.id, tenant.id));
    await audit(c, { action: "tenant.delete", resourceType: "tenant", resourceId: tenant.id });
    // If the send is lost, the purge hands the tenant to erasure once its grace period ends.
    afterCommit(c, () =>
      c.env.JOBS.send({ type: "tenant_erasure", tenantId: tenant.id, requestedAt: deletedAt.toISOString() }),
    );
    return c.json({ id: tenant.id, status: "erasing" as const, deletedAt: deletedAt.toISOString() }, 202);
  });
}
