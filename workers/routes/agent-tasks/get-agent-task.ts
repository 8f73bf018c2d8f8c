import { createRoute, z } from "@hono/zod-openapi";
import { loadTask } from "../../agents/run/tasks";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { agentTaskSchema, toAgentTaskResponse } from "./schemas";

const route = createRoute({
  operationId: "getAgentTask",
  tags: ["agent-tasks"],
  method: "get",
  path: "/v1/agent-tasks/{id}",
  summary: "Get an agent task: status, result, error and usage",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent task") }) },
  responses: {
    200: { description: "The task.", content: { "application/json": { schema: agentTaskSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetAgentTask(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const task = await loadTask(c.get("db"), c.req.valid("param").id);
    return c.json(toAgentTaskResponse(task), 200);
  });
}
