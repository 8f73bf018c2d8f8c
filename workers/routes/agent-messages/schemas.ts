import { z } from "@hono/zod-openapi";
import { AGENT_MESSAGE_TYPES } from "../../../db/schema";
import type { AgentMessage } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

export const agentMessageSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    taskId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The agent task the message belongs to (`GET /v1/agent-tasks/{id}`)." }),
    executionId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The workflow execution the task serves, when it serves one." }),
    senderAgentId: z.string().uuid().nullable().openapi({ description: "The agent that sent it." }),
    recipientAgentId: z.string().uuid().nullable().openapi({ description: "The agent it was sent to." }),
    messageType: z.enum(AGENT_MESSAGE_TYPES).openapi({
      description:
        "`request`: work handed to an agent (`content: { message }`); `response`: its answer " +
        "(`content: { output }`, or `{ error }` when its run did not succeed); `event`: progress.",
      example: "request",
    }),
    content: z.unknown().openapi({ example: { message: "Summarise the refund policy." } }),
    readAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .openapi("AgentMessage");
export type AgentMessageResponse = z.infer<typeof agentMessageSchema>;

export function toAgentMessageResponse(row: AgentMessage): AgentMessageResponse {
  return {
    id: row.id,
    taskId: row.taskId,
    executionId: row.executionId,
    senderAgentId: row.senderAgentId,
    recipientAgentId: row.recipientAgentId,
    messageType: row.messageType,
    content: row.content,
    readAt: row.readAt ? iso(row.readAt) : null,
    createdAt: iso(row.createdAt),
  };
}
