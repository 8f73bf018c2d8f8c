import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadWorkflow, loadWorkflowVersion } from "./load";
import { toWorkflowResponse, workflowSchema } from "./schemas";

const query = z.object({
  version: z.coerce.number().int().positive().optional().openapi({
    description: "Show this version's definition and input schema; default: the current one.",
    example: 1,
  }),
});

const route = createRoute({
  operationId: "getWorkflow",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflows/{id}",
  summary: "Get a workflow with its current definition, or an earlier version's",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "workflow") }), query },
  responses: {
    200: { description: "The workflow.", content: { "application/json": { schema: workflowSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetWorkflow(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:read");
    const db = c.get("db");
    const workflow = await loadWorkflow(db, c.req.valid("param").id);
    const { version } = c.req.valid("query");
    if (version === undefined || version === workflow.currentVersion)
      return c.json(toWorkflowResponse(workflow), 200);
    return c.json(toWorkflowResponse(workflow, await loadWorkflowVersion(db, workflow.id, version)), 200);
  });
}
