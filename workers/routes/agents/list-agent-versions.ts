import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { agentVersions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { cachedAgent } from "../../cache/agents";
import { cacheDeps } from "../../cache/request";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { agentVersionSchema, toAgentVersionResponse } from "./schemas";

const page = pageOf(agentVersionSchema, "AgentVersionPage");

const route = createRoute({
  operationId: "listAgentVersions",
  tags: ["agents"],
  method: "get",
  path: "/v1/agents/{id}/versions",
  summary: "List an agent's versions, newest first",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent") }), query: pageQuery },
  responses: {
    200: { description: "A page of versions.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerListAgentVersions(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const db = c.get("db");
    const agent = await cachedAgent(cacheDeps(c), db, c.req.valid("param").id);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [eq(agentVersions.tenantId, db.tenantId), eq(agentVersions.agentId, agent.id)];
    if (after) filters.push(lt(agentVersions.id, after));
    const rows = await db
      .select()
      .from(agentVersions)
      .where(and(...filters))
      .orderBy(desc(agentVersions.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toAgentVersionResponse), nextCursor }, 200);
  });
}
