import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNull, lt, type SQL } from "drizzle-orm";
import { conversations } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { conversationSchema, toConversationResponse } from "./schemas";

const query = pageQuery.extend({
  agentId: z.string().uuid().optional().openapi({
    description: "Only conversations with this agent.",
    example: "0193b2c4-0000-7000-8000-000000000001",
  }),
});

const page = pageOf(conversationSchema, "ConversationPage");
export type ListConversationsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listConversations",
  tags: ["conversations"],
  method: "get",
  path: "/v1/conversations",
  summary: "List conversations, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of conversations.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListConversations(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "conversations:read");
    const { limit, cursor, agentId } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [eq(conversations.tenantId, db.tenantId), isNull(conversations.deletedAt)];
    if (agentId) filters.push(eq(conversations.agentId, agentId));
    if (after) filters.push(lt(conversations.id, after));
    const rows = await db
      .select()
      .from(conversations)
      .where(and(...filters))
      .orderBy(desc(conversations.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toConversationResponse), nextCursor }, 200);
  });
}
