import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { workflowTemplate } from "../../workflows/templates";
import { templateIdParam, templateSchema, toTemplateResponse } from "./schemas";

const route = createRoute({
  operationId: "getWorkflowTemplate",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflow-templates/{id}",
  summary: "Get a workflow template",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: templateIdParam }) },
  responses: {
    200: { description: "The template.", content: { "application/json": { schema: templateSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetWorkflowTemplate(app: App) {
  app.openapi(route, (c) => {
    authorize(c, "workflows:read");
    const { id } = c.req.valid("param");
    const template = workflowTemplate(id);
    if (!template) throw new ApiError("NOT_FOUND", { detail: `No workflow template ${id}.` });
    return c.json(toTemplateResponse(template), 200);
  });
}
