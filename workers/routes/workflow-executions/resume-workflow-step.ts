import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { executionObject, loadExecution } from "./load";
import { executionSchema, toExecutionResponse } from "./schemas";

const body = z
  .object({
    payload: z.unknown().openapi({
      description: "The decision, checked against the step's schema.",
      example: { approved: true },
    }),
  })
  .strict()
  .openapi("ResumeWorkflowStepRequest");

const route = createRoute({
  operationId: "resumeWorkflowStep",
  tags: ["workflows"],
  method: "post",
  path: "/v1/workflow-executions/{id}/steps/{stepId}/resume",
  summary: "Answer a waiting approval step",
  description:
    "The payload becomes the step's output and the execution carries on. 404 for a step the definition " +
    "does not have, 409 when the step is not waiting (not reached yet, already answered, expired, or the " +
    "execution has ended), 422 when the payload breaks the step's schema (see `errors`).",
  security: [{ bearer: [] }],
  request: {
    params: z.object({
      id: uuidParam("id", "workflow execution"),
      stepId: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: "stepId", in: "path" }, example: "review" }),
    }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: { description: "The execution.", content: { "application/json": { schema: executionSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 422, 429, 500),
  },
});

export function registerResumeWorkflowStep(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "workflows:execute");
    const { id, stepId } = c.req.valid("param");
    const { payload } = c.req.valid("json");
    const db = c.get("db");
    const row = await loadExecution(db, id);
    const object = executionObject(c.env, row);
    const result = await object.resume(stepId, payload ?? null);
    if ("error" in result) {
      switch (result.error) {
        case "unknown_step":
          throw new ApiError("NOT_FOUND", { detail: `Execution ${id} has no step ${stepId}.` });
        case "not_an_approval":
          throw new ApiError("CONFLICT", { detail: `Step ${stepId} is not a wait_for_approval step.` });
        case "invalid_payload":
          throw new ApiError("UNPROCESSABLE", {
            detail: "The payload does not match the step's schema.",
            errors: result.issues.map((i) => ({
              path: i.path === "(root)" ? "payload" : `payload.${i.path}`,
              message: i.message,
            })),
          });
        default:
          throw new ApiError("CONFLICT", {
            detail: `Step ${stepId} is not waiting for approval (${result.error}).`,
          });
      }
    }
    await object.flush();
    await audit(c, {
      action: "workflow.approve",
      resourceType: "workflow_execution",
      resourceId: id,
      changes: { stepId },
    });
    return c.json(toExecutionResponse(await loadExecution(db, id)), 200);
  });
}
