import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { quotaReport, quotaReportSchema } from "../../quotas/report";
import { loadTenant } from "../tenants/load";

const route = createRoute({
  operationId: "getQuotas",
  tags: ["usage"],
  method: "get",
  path: "/v1/quotas",
  summary: "The caller's tenant: its quotas and limits, and what it has used and has left this month",
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: "The tenant's quotas.",
      content: { "application/json": { schema: quotaReportSchema } },
    },
    ...problemResponses(401, 403, 404, 429, 500),
  },
});

export function registerGetQuotas(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "usage:read");
    const db = c.get("db");
    return c.json(await quotaReport(db, await loadTenant(db)), 200);
  });
}
