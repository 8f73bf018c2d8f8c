import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, ilike, isNull, lt, type SQL } from "drizzle-orm";
import { agents } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { agentSchema, toAgentResponse } from "./schemas";

const query = pageQuery.extend({
  name: z.string().max(200).optional().openapi({ description: "Case-insensitive substring of the name." }),
  model: z.string().max(128).optional().openapi({ description: "Exact model." }),
});

const page = pageOf(agentSchema, "AgentPage");
export type ListAgentsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listAgents",
  tags: ["agents"],
  method: "get",
  path: "/v1/agents",
  summary: "List agents, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of agents.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

export function registerListAgents(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const { limit, cursor, name, model } = c.req.valid("query");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use (tenant_id, id).
    const filters: SQL[] = [eq(agents.tenantId, c.get("db").tenantId), isNull(agents.deletedAt)];
    if (after) filters.push(lt(agents.id, after));
    if (name) filters.push(ilike(agents.name, `%${escapeLike(name)}%`));
    if (model) filters.push(eq(agents.model, model));
    const rows = await c
      .get("db")
      .select()
      .from(agents)
      .where(and(...filters))
      .orderBy(desc(agents.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toAgentResponse), nextCursor }, 200);
  });
}
