import { createRoute, z } from "@hono/zod-openapi";
import { cancelRun } from "../../agents/run/cancel";
import { isTaskFinished, loadTask } from "../../agents/run/tasks";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadRun } from "../agent-runs/load";
import { agentTaskSchema, toAgentTaskResponse } from "./schemas";

const route = createRoute({
  operationId: "cancelAgentTask",
  tags: ["agent-tasks"],
  method: "post",
  path: "/v1/agent-tasks/{id}/cancel",
  summary: "Cancel an agent task",
  description:
    "A queued task ends `cancelled` at once (200) and its message, when it arrives, does nothing. A " +
    "task whose run is executing is stopped like `POST /v1/agent-runs/{id}/cancel` (202); the task " +
    "settles as `cancelled` when the run has wound down. 409 when the task already ended.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent task") }) },
  responses: {
    200: {
      description: "The task, cancelled.",
      content: { "application/json": { schema: agentTaskSchema } },
    },
    202: {
      description: "The task's run is stopping.",
      content: { "application/json": { schema: agentTaskSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

export function registerCancelAgentTask(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:write");
    const db = c.get("db");
    const task = await loadTask(db, c.req.valid("param").id);
    if (isTaskFinished(task) || !task.runId) {
      throw new ApiError("CONFLICT", { detail: `Task ${task.id} already ended (${task.status}).` });
    }
    const result = await cancelRun(db, c.env, await loadRun(db, task.runId));
    await audit(c, { action: "agent_task.cancel", resourceType: "agent_task", resourceId: task.id });
    const current = await loadTask(db, task.id);
    return c.json(toAgentTaskResponse(current), result.state === "stopping" ? 202 : 200);
  });
}
