import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { executionObject, isExecutionActive, loadExecution, loadStepAttempts } from "./load";
import { executionDetailSchema, toExecutionResponse, toStepAttemptResponse } from "./schemas";

const route = createRoute({
  operationId: "getWorkflowExecution",
  tags: ["workflows"],
  method: "get",
  path: "/v1/workflow-executions/{id}",
  summary: "Get an execution with every step attempt",
  description:
    "Each attempt of each step that has started: its resolved input, output, error, attempt number and timings.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "workflow execution") }) },
  responses: {
    200: {
      description: "The execution.",
      content: { "application/json": { schema: executionDetailSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetWorkflowExecution(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:read");
    const { id } = c.req.valid("param");
    const db = c.get("db");
    let row = await loadExecution(db, id);
    if (isExecutionActive(row)) {
      // The object writes PostgreSQL's copy behind its own storage: catch it up first.
      await executionObject(c.env, row).flush();
      row = await loadExecution(db, id);
    }
    const steps = await loadStepAttempts(db, id);
    return c.json({ ...toExecutionResponse(row), steps: steps.map(toStepAttemptResponse) }, 200);
  });
}
