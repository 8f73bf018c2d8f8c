import { z } from "@hono/zod-openapi";
import { AGENT_RUN_MODES, AGENT_RUN_STATUSES } from "../../../db/schema";
import type { AgentRun } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

export const agentRunSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    agentId: z.string().uuid(),
    agentVersion: z.number().int().openapi({ description: "The agent version the run used.", example: 3 }),
    conversationId: z.string().uuid(),
    status: z.enum(AGENT_RUN_STATUSES).openapi({ example: "succeeded" }),
    mode: z.enum(AGENT_RUN_MODES).openapi({
      description: "`sync` (the request waited), `stream` (server-sent events) or `async` (an agent task).",
      example: "sync",
    }),
    pendingApproval: z
      .array(
        z.object({
          toolUseId: z.string(),
          name: z.string(),
          input: z.unknown(),
          expiresAt: timestamp,
        }),
      )
      .nullable()
      .openapi({ description: "Tool calls waiting for a human while `status` is `awaiting_approval`." }),
    taskId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The agent task of an async run, or of a run an `agent` tool started." }),
    stopReason: z
      .string()
      .nullable()
      .openapi({
        description:
          "Why the run ended: the model's stop reason (`end_turn`, `max_tokens`, ...) or the platform's " +
          "(`max_tool_iterations`, `max_execution_time`, `cancelled`, `client_disconnected`, " +
          "`approval_expired`, `interrupted`, `error`). Null while running.",
        example: "end_turn",
      }),
    error: z.string().nullable().openapi({ description: "What went wrong, for failed runs.", example: null }),
    model: z.string().openapi({ example: "claude-sonnet-4-6" }),
    inputTokens: z.number().int().openapi({ example: 1200 }),
    outputTokens: z.number().int().openapi({ example: 85 }),
    cacheCreationInputTokens: z.number().int().openapi({ example: 0 }),
    cacheReadInputTokens: z.number().int().openapi({ example: 0 }),
    costMicroUsd: z
      .number()
      .int()
      .openapi({ description: "What the model calls cost, in millionths of a US dollar.", example: 4875 }),
    modelCalls: z.number().int().openapi({ example: 2 }),
    toolCalls: z.number().int().openapi({ example: 1 }),
    startedAt: timestamp,
    finishedAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .openapi("AgentRun");
export type AgentRunResponse = z.infer<typeof agentRunSchema>;

export function toAgentRunResponse(row: AgentRun): AgentRunResponse {
  return {
    id: row.id,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    conversationId: row.conversationId,
    status: row.status,
    mode: row.mode,
    pendingApproval: (row.pendingApproval as AgentRunResponse["pendingApproval"]) ?? null,
    taskId: row.taskId,
    stopReason: row.stopReason,
    error: row.error,
    model: row.model,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheCreationInputTokens: row.cacheCreationInputTokens,
    cacheReadInputTokens: row.cacheReadInputTokens,
    costMicroUsd: row.costMicroUsd,
    modelCalls: row.modelCalls,
    toolCalls: row.toolCalls,
    startedAt: iso(row.startedAt),
    finishedAt: row.finishedAt ? iso(row.finishedAt) : null,
    createdAt: iso(row.createdAt),
  };
}
