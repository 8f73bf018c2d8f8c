import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { AGENT_MESSAGE_TYPES, agentMessages } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { agentMessageSchema, toAgentMessageResponse } from "./schemas";

const query = pageQuery.extend({
  taskId: z.string().uuid().optional().openapi({ description: "Only messages of this agent task." }),
  executionId: z
    .string()
    .uuid()
    .optional()
    .openapi({ description: "Only messages of this workflow execution." }),
  agentId: z
    .string()
    .uuid()
    .optional()
    .openapi({ description: "Only messages this agent sent or received." }),
  messageType: z.enum(AGENT_MESSAGE_TYPES).optional().openapi({ description: "Only messages of this type." }),
});

const page = pageOf(agentMessageSchema, "AgentMessagePage");
export type ListAgentMessagesResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listAgentMessages",
  tags: ["agent-messages"],
  method: "get",
  path: "/v1/agent-messages",
  summary: "List what agents handed each other, newest first",
  description:
    "The record of delegations: for each call of an `agent` tool, the `request` the supervising " +
    "agent sent and the `response` the worker agent gave, tied to the worker's agent task.",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of messages.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListAgentMessages(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const db = c.get("db");
    const { limit, cursor, taskId, executionId, agentId, messageType } = c.req.valid("query");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use the indexes.
    const filters: (SQL | undefined)[] = [eq(agentMessages.tenantId, db.tenantId)];
    if (after) filters.push(lt(agentMessages.id, after));
    if (taskId) filters.push(eq(agentMessages.taskId, taskId));
    if (executionId) filters.push(eq(agentMessages.executionId, executionId));
    if (agentId) {
      filters.push(or(eq(agentMessages.senderAgentId, agentId), eq(agentMessages.recipientAgentId, agentId)));
    }
    if (messageType) filters.push(eq(agentMessages.messageType, messageType));
    const rows = await db
      .select()
      .from(agentMessages)
      .where(and(...filters))
      .orderBy(desc(agentMessages.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toAgentMessageResponse), nextCursor }, 200);
  });
}
