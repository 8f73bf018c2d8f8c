import { z } from "@hono/zod-openapi";
import { MESSAGE_ROLES } from "../../../db/schema";
import type { Conversation, Message } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

export const conversationSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    agentId: z.string().uuid().openapi({
      description: "The agent the conversation is with.",
      example: "0193b2c4-0000-7000-8000-000000000001",
    }),
    title: z.string().nullable().openapi({ example: "Q3 revenue questions" }),
    metadata: z.record(z.string(), z.unknown()).openapi({ example: { channel: "slack" } }),
    createdBy: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The user or API key that started it, if known." }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("Conversation");
export type ConversationResponse = z.infer<typeof conversationSchema>;

export const messageSchema = z
  .object({
    id: z.string().uuid(),
    sequence: z.number().int().openapi({ description: "Position in the conversation.", example: 3 }),
    role: z.enum(MESSAGE_ROLES).openapi({ example: "assistant" }),
    content: z.array(z.unknown()).openapi({
      description: "Content blocks as the model API takes them (text, tool_use, tool_result).",
      example: [{ type: "text", text: "Revenue grew 12%." }],
    }),
    model: z.string().nullable().openapi({ description: "The model that wrote it (assistant messages)." }),
    inputTokens: z.number().int().nullable().openapi({ example: 1200 }),
    outputTokens: z.number().int().nullable().openapi({ example: 85 }),
    cacheCreationInputTokens: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Prompt-cache writes of this message's model call.", example: 0 }),
    cacheReadInputTokens: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Prompt-cache reads of this message's model call.", example: 1024 }),
    costMicroUsd: z.number().int().nullable().openapi({
      description: "What this message's model call cost, in millionths of a US dollar.",
      example: 4875,
    }),
    createdAt: timestamp,
  })
  .openapi("Message");
export type MessageResponse = z.infer<typeof messageSchema>;

export function toConversationResponse(row: Conversation): ConversationResponse {
  return {
    id: row.id,
    agentId: row.agentId,
    title: row.title,
    metadata: row.metadata,
    createdBy: row.createdBy,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export function toMessageResponse(row: Message): MessageResponse {
  return {
    id: row.id,
    sequence: row.sequence,
    role: row.role,
    content: row.content,
    model: row.model,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheCreationInputTokens: row.cacheCreationInputTokens,
    cacheReadInputTokens: row.cacheReadInputTokens,
    costMicroUsd: row.costMicroUsd,
    createdAt: iso(row.createdAt),
  };
}
