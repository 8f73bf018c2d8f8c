import { z } from "@hono/zod-openapi";
import { EXECUTION_STATUSES } from "../../../db/schema";
import type { AgentTask } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

export const agentTaskSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    agentId: z.string().uuid(),
    status: z.enum(EXECUTION_STATUSES).openapi({ example: "succeeded" }),
    runId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The run doing the work (`GET /v1/agent-runs/{id}`)." }),
    conversationId: z.string().uuid().nullable(),
    parentTaskId: z.string().uuid().nullable().openapi({
      description:
        "The task of the run that handed this one down (an `agent` tool call in a run that has a task).",
    }),
    executionId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The workflow execution the task serves, when it serves one." }),
    stepExecutionId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The workflow step execution the task serves, when it serves one." }),
    input: z.unknown().openapi({ description: "What the task was given (`{ message }`)." }),
    output: z.unknown().nullable().openapi({
      description:
        "When finished: `{ runId, conversationId, stopReason, usage }`; the answer is the run's last message.",
    }),
    error: z
      .string()
      .nullable()
      .openapi({ description: "The failure, or the last attempt's error while retrying." }),
    attempts: z.number().int().openapi({ description: "Deliveries of the task's queue message so far." }),
    callbackUrl: z.string().nullable().openapi({
      description: "Where the completion webhook goes, without its query string (which may carry a token).",
    }),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .openapi("AgentTask");
export type AgentTaskResponse = z.infer<typeof agentTaskSchema>;

export function toAgentTaskResponse(row: AgentTask): AgentTaskResponse {
  const input = row.input as { message?: unknown } | null;
  return {
    id: row.id,
    agentId: row.agentId,
    status: row.status,
    runId: row.runId,
    conversationId: row.conversationId,
    parentTaskId: row.parentTaskId,
    executionId: row.executionId,
    stepExecutionId: row.stepExecutionId,
    // Test-only provider headers stay internal.
    input: input ? { message: input.message } : null,
    output: row.output ?? null,
    error: row.error,
    attempts: row.attempts,
    callbackUrl: row.callbackUrl ? withoutQuery(row.callbackUrl) : null,
    startedAt: row.startedAt ? iso(row.startedAt) : null,
    finishedAt: row.finishedAt ? iso(row.finishedAt) : null,
    createdAt: iso(row.createdAt),
  };
}

function withoutQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
