import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, gt, type SQL } from "drizzle-orm";
import { messages } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadConversation } from "./load";
import { conversationSchema, messageSchema, toConversationResponse, toMessageResponse } from "./schemas";

/** Most messages one response carries; long conversations are read in slices. */
export const MAX_MESSAGES = 200;

const query = z.object({
  messagesAfter: z.coerce.number().int().min(0).optional().openapi({
    description: "Only messages with a higher `sequence`: pass `nextMessagesAfter` to read on.",
    example: 199,
  }),
  messagesLimit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_MESSAGES)
    .default(MAX_MESSAGES)
    .openapi({ description: `Most messages to return (1-${MAX_MESSAGES}).`, example: MAX_MESSAGES }),
});

const conversationWithMessages = conversationSchema
  .extend({
    messages: z.array(messageSchema).openapi({ description: "Messages in `sequence` order, oldest first." }),
    nextMessagesAfter: z.number().int().nullable().openapi({
      description:
        "Set when more messages follow: pass it as `messagesAfter` to get them. Null when `messages` reaches the end.",
      example: null,
    }),
  })
  .openapi("ConversationWithMessages");
export type GetConversationResponse = z.infer<typeof conversationWithMessages>;

const route = createRoute({
  operationId: "getConversation",
  tags: ["conversations"],
  method: "get",
  path: "/v1/conversations/{id}",
  summary: `Get a conversation with its messages (up to ${MAX_MESSAGES} at a time)`,
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "conversation") }), query },
  responses: {
    200: {
      description: "The conversation.",
      content: { "application/json": { schema: conversationWithMessages } },
    },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetConversation(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "conversations:read");
    const db = c.get("db");
    const { messagesAfter, messagesLimit } = c.req.valid("query");
    const conversation = await loadConversation(db, c.req.valid("param").id);
    const filters: SQL[] = [eq(messages.tenantId, db.tenantId), eq(messages.conversationId, conversation.id)];
    if (messagesAfter !== undefined) filters.push(gt(messages.sequence, messagesAfter));
    const rows = await db
      .select()
      .from(messages)
      .where(and(...filters))
      .orderBy(asc(messages.sequence))
      .limit(messagesLimit + 1);
    const page = rows.slice(0, messagesLimit);
    const last = page[page.length - 1];
    return c.json(
      {
        ...toConversationResponse(conversation),
        messages: page.map(toMessageResponse),
        nextMessagesAfter: rows.length > messagesLimit && last ? last.sequence : null,
      },
      200,
    );
  });
}
