import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { loadTenant } from "../tenants/load";
import { tenantDetailSchema, toTenantDetailResponse } from "../tenants/schemas";

const route = createRoute({
  operationId: "getCurrentTenant",
  tags: ["tenant"],
  method: "get",
  path: "/v1/tenant",
  summary: "Get the caller's tenant: settings, ceilings and effective limits",
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: "The caller's tenant.",
      content: { "application/json": { schema: tenantDetailSchema } },
    },
    ...problemResponses(401, 403, 404, 429, 500),
  },
});

export function registerGetCurrentTenant(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "tenant:read");
    const tenant = await loadTenant(c.get("db"));
    return c.json(toTenantDetailResponse(tenant), 200);
  });
}
