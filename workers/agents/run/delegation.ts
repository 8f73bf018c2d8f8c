import { and, eq, isNull, sql } from "drizzle-orm";
import { agentMessages, agentRuns, agentTasks, auditLogs } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { AgentRun, AgentTask } from "../../../db/types";
import type { Config } from "../../env";
import type { JobQueue } from "../../lib/webhooks";
import { runMessages } from "./object";
import { ACTIVE_RUN_STATUSES, prepareRun, specForStoredRun } from "./prepare";
import type { RunSpec } from "./spec";
import { createTask, isTaskFinished, loadTask, settleTask } from "./tasks";
import { storedText } from "./transcript";

/** The run handing work down, as its spec knows it. */
export type DelegatingRun = Pick<
  RunSpec,
  "runId" | "agentId" | "actor" | "providerHeaders" | "delegationDepth"
>;

export interface DelegationRequest {
  parent: DelegatingRun;
  /** The model's id of the tool call: with the parent run's id, it names the delegation. */
  toolUseId: string;
  agentId: string;
  agentVersion?: number | undefined;
  message: string;
}

export interface OpenedDelegation {
  run: AgentRun;
  task: AgentTask;
  /** What the worker run's object executes; null when the run has already ended. */
  spec: RunSpec | null;
}

/**
 * The worker run's idempotency key. A tool call is made once per parent run and `tool_use` id,
 * so a retried or redelivered call finds the run the first one started.
 */
export function delegationKey(parentRunId: string, toolUseId: string): string {
  return `delegation:${parentRunId}:${toolUseId}`;
}

/**
 * Stores a delegation in one tenant transaction, to be committed before the worker run's object
 * starts: the worker run (a sync run of the worker agent, in a conversation of its own, acting
 * with the parent run's actor, one level deeper), its `agent_tasks` row (linked to the parent
 * run's task and that task's workflow execution and step, when there are any), the `request`
 * agent message and the `agent.execute` audit entry. A call made before (same parent run and
 * `tool_use` id) gets the run it started instead, with a spec while that run has not ended.
 *
 * @throws ApiError NOT_FOUND (worker agent or its pinned version), UNPROCESSABLE (its model is
 *   no longer allowed), RATE_LIMITED (the worker agent's `maxConcurrentExecutions`).
 */
export async function openDelegation(
  db: TenantDb,
  config: Config,
  req: DelegationRequest,
): Promise<OpenedDelegation> {
  const { parent } = req;
  const key = delegationKey(parent.runId, req.toolUseId);
  const createdBy = parent.actor.kind === "platform_admin" ? null : parent.actor.id;
  const depth = parent.delegationDepth + 1;
  // prepareRun's own key check needs a creator; a platform admin's runs have none.
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`agent-delegation:${key}`}, 0))`);
  const [existing] = await db
    .select()
    .from(agentRuns)
    .where(
      and(
        eq(agentRuns.tenantId, db.tenantId),
        createdBy === null ? isNull(agentRuns.createdBy) : eq(agentRuns.createdBy, createdBy),
        eq(agentRuns.idempotencyKey, key),
      ),
    );
  if (existing) {
    if (!existing.taskId) throw new Error(`delegated run ${existing.id} has no task`);
    const task = await loadTask(db, existing.taskId);
    const active = (ACTIVE_RUN_STATUSES as readonly string[]).includes(existing.status);
    const spec = active
      ? await specForStoredRun(db, config, existing, parent.actor, parent.providerHeaders, depth)
      : null;
    return { run: existing, task, spec };
  }

  const links = await parentLinks(db, parent.runId);
  const prepared = await prepareRun(db, config, {
    agentId: req.agentId,
    agentVersion: req.agentVersion,
    message: req.message,
    mode: "sync",
    createdBy,
    actor: parent.actor,
    idempotencyKey: key,
    providerHeaders: parent.providerHeaders,
    delegationDepth: depth,
  });
  if (prepared.kind !== "new") throw new Error(`delegation ${key} was stored meanwhile`);
  const { run } = prepared;
  const task = await createTask(db, run, {
    message: req.message,
    actor: parent.actor,
    providerHeaders: parent.providerHeaders,
    links,
    running: true,
  });
  await db.insert(agentMessages).values({
    tenantId: db.tenantId,
    taskId: task.id,
    executionId: task.executionId,
    senderAgentId: parent.agentId,
    recipientAgentId: run.agentId,
    messageType: "request",
    content: { message: req.message },
  });
  await db.insert(auditLogs).values({
    tenantId: db.tenantId,
    actorType: parent.actor.kind,
    actorId: createdBy,
    action: "agent.execute",
    resourceType: "agent_run",
    resourceId: run.id,
    changes: {
      agentId: run.agentId,
      conversationId: run.conversationId,
      mode: run.mode,
      via: "agent_tool",
      parentRunId: parent.runId,
      taskId: task.id,
    },
  });
  return { run, task, spec: prepared.spec };
}

/** The parent run's task (a delegation or an async run), and its workflow execution and step. */
async function parentLinks(
  db: TenantDb,
  parentRunId: string,
): Promise<{ parentTaskId: string | null; executionId: string | null; stepExecutionId: string | null }> {
  const [row] = await db
    .select({
      id: agentTasks.id,
      executionId: agentTasks.executionId,
      stepExecutionId: agentTasks.stepExecutionId,
    })
    .from(agentRuns)
    .innerJoin(
      agentTasks,
      and(eq(agentTasks.tenantId, agentRuns.tenantId), eq(agentTasks.id, agentRuns.taskId)),
    )
    .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, parentRunId)));
  return {
    parentTaskId: row?.id ?? null,
    executionId: row?.executionId ?? null,
    stepExecutionId: row?.stepExecutionId ?? null,
  };
}

export interface ClosedDelegation {
  run: AgentRun;
  /** The worker's last answer; empty when it gave none. */
  output: string;
  /** Why the worker run did not succeed (`CODE: detail`, or how it stopped); null when it did. */
  failure: string | null;
}

/**
 * Records how a worker run ended, once: its task settles from the run (`settleTask`), and the
 * `response` agent message (worker to parent, `{ output }` or `{ error }`) is written unless the
 * task has one already. The task row is locked, so two closes of one delegation cannot both write.
 *
 * @throws Error when the run has not ended (its object reported no end).
 */
export async function closeDelegation(
  db: TenantDb,
  queue: JobQueue,
  config: Config,
  opened: Pick<OpenedDelegation, "run" | "task">,
  parentAgentId: string,
): Promise<ClosedDelegation> {
  const [task] = await db
    .select()
    .from(agentTasks)
    .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, opened.task.id)))
    .for("update");
  const [run] = await db
    .select()
    .from(agentRuns)
    .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, opened.run.id)));
  if (!task || !run) throw new Error(`delegated run ${opened.run.id} or its task is gone`);
  if ((ACTIVE_RUN_STATUSES as readonly string[]).includes(run.status)) {
    throw new Error(`delegated run ${run.id} has not ended (${run.status})`);
  }
  if (!isTaskFinished(task)) await settleTask(db, queue, config, task, run);
  const last = (await runMessages(db, run.id)).filter((m) => m.role === "assistant").at(-1);
  const output = last ? storedText(last.content) : "";
  const failure =
    run.status === "succeeded"
      ? null
      : (run.error ?? `the run ended ${run.status} (${run.stopReason ?? "no reason"})`);
  const [answered] = await db
    .select({ id: agentMessages.id })
    .from(agentMessages)
    .where(
      and(
        eq(agentMessages.tenantId, db.tenantId),
        eq(agentMessages.taskId, task.id),
        eq(agentMessages.messageType, "response"),
      ),
    )
    .limit(1);
  if (!answered) {
    await db.insert(agentMessages).values({
      tenantId: db.tenantId,
      taskId: task.id,
      executionId: task.executionId,
      senderAgentId: run.agentId,
      recipientAgentId: parentAgentId,
      messageType: "response",
      content: failure ? { error: failure } : { output },
    });
  }
  return { run, output, failure };
}
