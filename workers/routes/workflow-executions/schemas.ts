import { z } from "@hono/zod-openapi";
import { WORKFLOW_STATUSES } from "../../../db/schema";
import type { WorkflowExecution, WorkflowStepExecution } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

export const workflowStatus = z.enum(WORKFLOW_STATUSES).openapi({
  description:
    "pending: accepted, not started yet. running. waiting: for a human's approval. succeeded, failed, cancelled: ended.",
  example: "running",
});

export const stepAttemptSchema = z
  .object({
    id: z.string().uuid(),
    stepId: z.string().openapi({ example: "summarise" }),
    stepType: z.string().openapi({ example: "agent" }),
    status: workflowStatus,
    attempt: z.number().int().openapi({ example: 1 }),
    input: z.unknown().openapi({ description: "The step's resolved input (templates filled in)." }),
    output: z.unknown(),
    error: z.string().nullable().openapi({ example: "http_5xx: GET api.example.com answered 503" }),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    durationMs: z.number().int().nullable(),
  })
  .openapi("WorkflowStepAttempt");

export const executionSchema = z
  .object({
    id: z.string().uuid(),
    workflowId: z.string().uuid(),
    version: z.number().int().openapi({ description: "The definition version the execution pinned." }),
    status: workflowStatus,
    input: z.unknown(),
    output: z.unknown(),
    error: z.string().nullable(),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("WorkflowExecution");
export type ExecutionResponse = z.infer<typeof executionSchema>;

export const executionDetailSchema = executionSchema
  .extend({
    steps: z
      .array(stepAttemptSchema)
      .openapi({ description: "Every attempt of every step that started, in order." }),
  })
  .openapi("WorkflowExecutionDetail");
export type ExecutionDetailResponse = z.infer<typeof executionDetailSchema>;

const isoOrNull = (date: Date | null) => (date === null ? null : iso(date));

export function toExecutionResponse(row: WorkflowExecution): ExecutionResponse {
  return {
    id: row.id,
    workflowId: row.workflowId,
    version: row.version,
    status: row.status,
    input: row.input ?? null,
    output: row.output ?? null,
    error: row.error,
    startedAt: isoOrNull(row.startedAt),
    finishedAt: isoOrNull(row.finishedAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export function toStepAttemptResponse(row: WorkflowStepExecution): z.infer<typeof stepAttemptSchema> {
  return {
    id: row.id,
    stepId: row.stepId,
    stepType: row.stepType,
    status: row.status,
    attempt: row.attempt,
    input: row.input ?? null,
    output: row.output ?? null,
    error: row.error,
    startedAt: isoOrNull(row.startedAt),
    finishedAt: isoOrNull(row.finishedAt),
    durationMs: row.startedAt && row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : null,
  };
}
