import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadRun } from "./load";
import { agentRunSchema, toAgentRunResponse } from "./schemas";

const route = createRoute({
  operationId: "getAgentRun",
  tags: ["agent-runs"],
  method: "get",
  path: "/v1/agent-runs/{id}",
  summary: "Get an agent run with its status and totals",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent run") }) },
  responses: {
    200: { description: "The run.", content: { "application/json": { schema: agentRunSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetAgentRun(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const run = await loadRun(c.get("db"), c.req.valid("param").id);
    return c.json(toAgentRunResponse(run), 200);
  });
}
