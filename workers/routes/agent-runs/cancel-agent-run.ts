import { createRoute, z } from "@hono/zod-openapi";
import { cancelRun } from "../../agents/run/cancel";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadRun } from "./load";
import { agentRunSchema, toAgentRunResponse } from "./schemas";

const route = createRoute({
  operationId: "cancelAgentRun",
  tags: ["agent-runs"],
  method: "post",
  path: "/v1/agent-runs/{id}/cancel",
  summary: "Cancel a run in progress",
  description:
    "Aborts the model call in flight and any pending tool calls; the run ends `cancelled` with stop " +
    "reason `cancelled`. Answers 202 with the run while it winds down (its stream ends with `done`), " +
    "or 200 when it had not started (a queued async run ends at once). 409 when the run already ended.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent run") }) },
  responses: {
    200: { description: "The run, cancelled.", content: { "application/json": { schema: agentRunSchema } } },
    202: {
      description: "The run is stopping.",
      content: { "application/json": { schema: agentRunSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

export function registerCancelAgentRun(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:write");
    const db = c.get("db");
    const run = await loadRun(db, c.req.valid("param").id);
    const result = await cancelRun(db, c.env, run);
    await audit(c, { action: "agent_run.cancel", resourceType: "agent_run", resourceId: run.id });
    return c.json(toAgentRunResponse(result.run), result.state === "stopping" ? 202 : 200);
  });
}
