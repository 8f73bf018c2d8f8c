import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { requirePlatformAdmin } from "../../auth/platform-admin";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadTenant } from "./load";
import { tenantDetailSchema, toTenantDetailResponse } from "./schemas";

const route = createRoute({
  operationId: "getTenant",
  tags: ["tenants"],
  method: "get",
  path: "/v1/tenants/{tenantId}",
  summary: "Get any tenant with its ceilings and effective limits (platform admin)",
  security: [{ bearer: [] }],
  request: { params: z.object({ tenantId: uuidParam("tenantId", "tenant") }) },
  responses: {
    200: { description: "The tenant.", content: { "application/json": { schema: tenantDetailSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetTenant(app: App) {
  app.openapi(route, async (c) => {
    requirePlatformAdmin(c);
    const tenant = await loadTenant(c.get("db"));
    return c.json(toTenantDetailResponse(tenant), 200);
  });
}
