import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { agentTasks, EXECUTION_STATUSES } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { agentTaskSchema, toAgentTaskResponse } from "./schemas";

const query = pageQuery.extend({
  agentId: z.string().uuid().optional().openapi({ description: "Only tasks of this agent." }),
  status: z.enum(EXECUTION_STATUSES).optional().openapi({ description: "Only tasks with this status." }),
  executionId: z
    .string()
    .uuid()
    .optional()
    .openapi({ description: "Only tasks of this workflow execution." }),
});

const page = pageOf(agentTaskSchema, "AgentTaskPage");
export type ListAgentTasksResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listAgentTasks",
  tags: ["agent-tasks"],
  method: "get",
  path: "/v1/agent-tasks",
  summary: "List agent tasks, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of tasks.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListAgentTasks(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const db = c.get("db");
    const { limit, cursor, agentId, status, executionId } = c.req.valid("query");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use the indexes.
    const filters: SQL[] = [eq(agentTasks.tenantId, db.tenantId)];
    if (after) filters.push(lt(agentTasks.id, after));
    if (agentId) filters.push(eq(agentTasks.agentId, agentId));
    if (status) filters.push(eq(agentTasks.status, status));
    if (executionId) filters.push(eq(agentTasks.executionId, executionId));
    const rows = await db
      .select()
      .from(agentTasks)
      .where(and(...filters))
      .orderBy(desc(agentTasks.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toAgentTaskResponse), nextCursor }, 200);
  });
}
