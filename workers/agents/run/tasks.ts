import { and, eq } from "drizzle-orm";
import { agentRuns, agentTasks } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { AgentRun, AgentTask } from "../../../db/types";
import type { Config } from "../../env";
import { ApiError } from "../../lib/errors";
import { enqueueWebhook, type JobQueue, type WebhookEventType, webhookPolicy } from "../../lib/webhooks";
import type { RunActor } from "./spec";

/** What an async task stores as its input; the message itself is the run's first message. */
export interface TaskInput {
  message: string;
  /** Who queued the task; its run acts with this role. */
  actor: RunActor;
  providerHeaders?: Record<string, string>;
}

/** Statuses of a task that is over; a redelivered message for one does nothing. */
export const FINISHED_TASK_STATUSES = ["succeeded", "failed", "cancelled"] as const;

export function isTaskFinished(task: Pick<AgentTask, "status">): boolean {
  return (FINISHED_TASK_STATUSES as readonly string[]).includes(task.status);
}

/** Where a task sits: the task that handed it down, and the workflow execution and step it serves. */
export interface TaskLinks {
  parentTaskId: string | null;
  executionId: string | null;
  stepExecutionId: string | null;
}

/**
 * Creates the task for a run and links the run to it, in the request's transaction: an async
 * run's task (`pending` until the queue picks it up), or a delegated run's (`running` at once,
 * with its `links`).
 */
export async function createTask(
  db: TenantDb,
  run: AgentRun,
  input: TaskInput & { callbackUrl?: string | undefined; links?: TaskLinks; running?: boolean },
): Promise<AgentTask> {
  const [task] = await db
    .insert(agentTasks)
    .values({
      tenantId: db.tenantId,
      agentId: run.agentId,
      runId: run.id,
      conversationId: run.conversationId,
      ...input.links,
      ...(input.running ? { status: "running" as const, startedAt: run.startedAt } : {}),
      callbackUrl: input.callbackUrl ?? null,
      input: {
        message: input.message,
        actor: input.actor,
        ...(input.providerHeaders ? { providerHeaders: input.providerHeaders } : {}),
      },
      createdBy: run.createdBy,
    })
    .returning();
  if (!task) throw new Error("agent_tasks insert returned no row");
  await db
    .update(agentRuns)
    .set({ taskId: task.id })
    .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, run.id)));
  return task;
}

export async function loadTask(db: TenantDb, id: string): Promise<AgentTask> {
  const [task] = await db
    .select()
    .from(agentTasks)
    .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, id)));
  if (!task) throw new ApiError("NOT_FOUND", { detail: `Agent task ${id} not found.` });
  return task;
}

const TASK_STATUS_OF_RUN: Record<string, AgentTask["status"]> = {
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
};

const EVENT_OF_STATUS: Record<string, WebhookEventType> = {
  succeeded: "agent_task.completed",
  failed: "agent_task.failed",
  cancelled: "agent_task.cancelled",
};

/**
 * Copies a finished run's result onto its task and, when the task has a `callback_url`,
 * queues the signed completion webhook, in one transaction. The webhook's event id is the
 * task's, so doing this twice (a redelivered message) never sends a second one.
 */
export async function settleTask(
  db: TenantDb,
  queue: JobQueue,
  config: Config,
  task: AgentTask,
  run: AgentRun,
): Promise<AgentTask> {
  const status = TASK_STATUS_OF_RUN[run.status];
  if (!status) throw new Error(`run ${run.id} has not ended (${run.status})`);
  const output = {
    runId: run.id,
    conversationId: run.conversationId,
    stopReason: run.stopReason,
    usage: {
      inputTokens: run.inputTokens,
      outputTokens: run.outputTokens,
      cacheCreationInputTokens: run.cacheCreationInputTokens,
      cacheReadInputTokens: run.cacheReadInputTokens,
      costMicroUsd: run.costMicroUsd,
      modelCalls: run.modelCalls,
      toolCalls: run.toolCalls,
    },
  };
  const [settled] = await db
    .update(agentTasks)
    .set({ status, output, error: run.error, finishedAt: run.finishedAt ?? new Date() })
    .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, task.id)))
    .returning();
  if (!settled) throw new Error(`agent task ${task.id} is gone`);
  const eventType = EVENT_OF_STATUS[run.status];
  if (settled.callbackUrl && eventType) {
    await enqueueWebhook(
      db,
      queue,
      {
        eventId: `${eventType}:${task.id}`,
        eventType,
        url: settled.callbackUrl,
        payload: { taskId: task.id, status, error: run.error, ...output },
      },
      { policy: webhookPolicy(config) },
    );
  }
  return settled;
}
