import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { cachedAgent } from "../../cache/agents";
import { cacheDeps } from "../../cache/request";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { agentSchema, toAgentResponse } from "./schemas";

const route = createRoute({
  operationId: "getAgent",
  tags: ["agents"],
  method: "get",
  path: "/v1/agents/{id}",
  summary: "Get an agent's current definition",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent") }) },
  responses: {
    200: { description: "The agent.", content: { "application/json": { schema: agentSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetAgent(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const agent = await cachedAgent(cacheDeps(c), c.get("db"), c.req.valid("param").id);
    return c.json(toAgentResponse(agent), 200);
  });
}
