import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { AGENT_RUN_STATUSES, agentRuns } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { agentRunSchema, toAgentRunResponse } from "./schemas";

const query = pageQuery.extend({
  agentId: z.string().uuid().optional().openapi({ description: "Only runs of this agent." }),
  conversationId: z.string().uuid().optional().openapi({ description: "Only runs in this conversation." }),
  status: z.enum(AGENT_RUN_STATUSES).optional().openapi({ description: "Only runs with this status." }),
});

const page = pageOf(agentRunSchema, "AgentRunPage");
export type ListAgentRunsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listAgentRuns",
  tags: ["agent-runs"],
  method: "get",
  path: "/v1/agent-runs",
  summary: "List agent runs, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of runs.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListAgentRuns(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const db = c.get("db");
    const { limit, cursor, agentId, conversationId, status } = c.req.valid("query");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use the indexes.
    const filters: SQL[] = [eq(agentRuns.tenantId, db.tenantId)];
    if (after) filters.push(lt(agentRuns.id, after));
    if (agentId) filters.push(eq(agentRuns.agentId, agentId));
    if (conversationId) filters.push(eq(agentRuns.conversationId, conversationId));
    if (status) filters.push(eq(agentRuns.status, status));
    const rows = await db
      .select()
      .from(agentRuns)
      .where(and(...filters))
      .orderBy(desc(agentRuns.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toAgentRunResponse), nextCursor }, 200);
  });
}
