import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { cachedAgentVersion } from "../../cache/agents";
import { cacheDeps } from "../../cache/request";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { agentVersionSchema, toAgentVersionResponse } from "./schemas";

const route = createRoute({
  operationId: "getAgentVersion",
  tags: ["agents"],
  method: "get",
  path: "/v1/agents/{id}/versions/{version}",
  summary: "Get one version of an agent's definition",
  security: [{ bearer: [] }],
  request: {
    params: z.object({
      id: uuidParam("id", "agent"),
      version: z.coerce
        .number()
        .int()
        .positive()
        .openapi({ param: { name: "version", in: "path" }, example: 2 }),
    }),
  },
  responses: {
    200: { description: "The version.", content: { "application/json": { schema: agentVersionSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetAgentVersion(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const db = c.get("db");
    const { id, version } = c.req.valid("param");
    const row = await cachedAgentVersion(cacheDeps(c), db, id, version);
    return c.json(toAgentVersionResponse(row), 200);
  });
}
