import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { agentVersions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadAgent } from "./load";
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
    const agent = await loadAgent(db, id);
    const [row] = await db
      .select()
      .from(agentVersions)
      .where(
        and(
          eq(agentVersions.tenantId, db.tenantId),
          eq(agentVersions.agentId, agent.id),
          eq(agentVersions.version, version),
        ),
      );
    if (!row) throw new ApiError("NOT_FOUND", { detail: `Agent ${id} has no version ${version}.` });
    return c.json(toAgentVersionResponse(row), 200);
  });
}
