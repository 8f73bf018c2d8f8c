import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { WORKFLOW_TEMPLATES } from "../../workflows/templates";
import { templateSchema, toTemplateResponse } from "./schemas";

const list = z.object({ data: z.array(templateSchema) }).openapi("WorkflowTemplateList");
export type ListWorkflowTemplatesResponse = z.infer<typeof list>;

const route = createRoute({
  operationId: "listWorkflowTemplates",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflow-templates",
  summary: "List the built-in workflow templates",
  description:
    "The platform's workflow templates, the same for every tenant. Not paginated: a fixed catalogue. " +
    "`POST /v1/workflow-templates/{id}/instantiate` turns one into a workflow of the tenant.",
  security: [{ bearer: [] }],
  responses: {
    200: { description: "Every template.", content: { "application/json": { schema: list } } },
    ...problemResponses(401, 403, 429, 500),
  },
});

export function registerListWorkflowTemplates(app: App) {
  app.openapi(route, (c) => {
    authorize(c, "workflows:read");
    return c.json({ data: WORKFLOW_TEMPLATES.map(toTemplateResponse) }, 200);
  });
}
