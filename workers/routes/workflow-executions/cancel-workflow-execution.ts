import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { executionObject, isExecutionActive, loadExecution } from "./load";
import { executionSchema, toExecutionResponse } from "./schemas";

const route = createRoute({
  operationId: "cancelWorkflowExecution",
  tags: ["workflows"],
  method: "post",
  path: "/v1/workflow-executions/{id}/cancel",
  summary: "Cancel an execution",
  description:
    "Running steps are aborted (an agent step's run is cancelled too), waiting ones end, and nothing new " +
    "starts. 409 when the execution has already ended.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "workflow execution") }) },
  responses: {
    200: {
      description: "The cancelled execution.",
      content: { "application/json": { schema: executionSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

export function registerCancelWorkflowExecution(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:execute");
    const { id } = c.req.valid("param");
    const db = c.get("db");
    const row = await loadExecution(db, id);
    if (!isExecutionActive(row)) {
      throw new ApiError("CONFLICT", {
        detail: `Workflow execution ${id} has already ended (${row.status}).`,
      });
    }
    const object = executionObject(c.env, row);
    const result = await object.cancel();
    if (result === "finished") {
      throw new ApiError("CONFLICT", { detail: `Workflow execution ${id} has already ended.` });
    }
    await object.flush();
    await audit(c, { action: "workflow.cancel", resourceType: "workflow_execution", resourceId: id });
    return c.json(toExecutionResponse(await loadExecution(db, id)), 200);
  });
}
