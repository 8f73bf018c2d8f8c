import { and, eq } from "drizzle-orm";
import { agentRuns, agentTasks } from "../../../../db/schema";
import type { TenantDb } from "../../../../db/tenant";
import type { AgentRun } from "../../../../db/types";
import { runMessages, runObject } from "../../../agents/run/object";
import { ACTIVE_RUN_STATUSES, prepareRun, specForStoredRun } from "../../../agents/run/prepare";
import type { RunSpec } from "../../../agents/run/spec";
import { createTask, settleTask } from "../../../agents/run/tasks";
import { ApiError } from "../../../lib/errors";
import type { AgentStep } from "../../definition/schema";
import { type StepContext, StepError } from "./context";

export interface AgentStepOutput {
  /** The agent's final answer. */
  text: string;
  runId: string;
  taskId: string;
  conversationId: string;
  status: string;
  usage: { inputTokens: number; outputTokens: number; costMicroUsd: number };
}

type Started = { run: AgentRun; taskId: string; spec: RunSpec | null };

/**
 * Runs an agent through the agent runtime, as an `agent_tasks` row of the execution and step.
 * The task is keyed by the step attempt's record: a replay of the same attempt (the object was
 * evicted mid-step) finds the run it started and waits for it, so an attempt never starts two runs.
 */
export async function runAgentStep(
  step: AgentStep,
  message: string,
  ctx: StepContext,
): Promise<AgentStepOutput> {
  // agent_tasks references the attempt's record.
  await ctx.flushRecords();
  const started = await ctx
    .inTenant((db) => startOrFind(db, step, message, ctx))
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.code === "RATE_LIMITED")
        throw new StepError("rate_limited", error.message, true);
      // The agent, its pinned version or its model is gone: another attempt cannot help.
      if (error instanceof ApiError) throw new StepError("agent_unavailable", error.message, false);
      throw error;
    });

  let run = started.run;
  if (started.spec) {
    const object = runObject(ctx.env, run);
    const cancel = () => void object.cancel("cancelled").catch(() => undefined);
    ctx.signal.addEventListener("abort", cancel, { once: true });
    try {
      await object.start(started.spec);
      await object.result();
    } finally {
      ctx.signal.removeEventListener("abort", cancel);
    }
  }
  const { settled, output } = await ctx.inTenant(async (db) => {
    const [current] = await db
      .select()
      .from(agentRuns)
      .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, run.id)));
    const [task] = await db
      .select()
      .from(agentTasks)
      .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, started.taskId)));
    if (!current || !task) throw new StepError("agent_unavailable", `agent run ${run.id} is gone`, false);
    if ((ACTIVE_RUN_STATUSES as readonly string[]).includes(current.status))
      return { settled: current, output: "" };
    if (task.status !== current.status) await settleTask(db, ctx.env.JOBS, ctx.config, task, current);
    return { settled: current, output: await finalText(db, current) };
  });
  run = settled;
  if ((ACTIVE_RUN_STATUSES as readonly string[]).includes(run.status)) {
    throw new StepError("agent_failed", `agent run ${run.id} did not finish`, true);
  }
  if (run.status !== "succeeded") {
    throw new StepError(
      "agent_failed",
      `agent run ${run.id} ${run.status}: ${run.error ?? run.stopReason ?? ""}`,
      run.status === "failed",
    );
  }
  return {
    text: output,
    runId: run.id,
    taskId: started.taskId,
    conversationId: run.conversationId,
    status: run.status,
    usage: { inputTokens: run.inputTokens, outputTokens: run.outputTokens, costMicroUsd: run.costMicroUsd },
  };
}

async function startOrFind(
  db: TenantDb,
  step: AgentStep,
  message: string,
  ctx: StepContext,
): Promise<Started> {
  const [existing] = await db
    .select()
    .from(agentTasks)
    .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.stepExecutionId, ctx.recordId)));
  if (existing?.runId) {
    const [run] = await db
      .select()
      .from(agentRuns)
      .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, existing.runId)));
    if (!run) throw new StepError("agent_unavailable", `agent run ${existing.runId} is gone`, false);
    const active = (ACTIVE_RUN_STATUSES as readonly string[]).includes(run.status);
    return {
      run,
      taskId: existing.id,
      spec: active
        ? await specForStoredRun(db, ctx.config, run, ctx.spec.actor, ctx.spec.providerHeaders)
        : null,
    };
  }

  const prepared = await prepareRun(db, ctx.config, {
    agentId: step.agentId,
    agentVersion: step.agentVersion,
    message,
    mode: "async",
    createdBy: ctx.spec.createdBy,
    actor: ctx.spec.actor,
    providerHeaders: ctx.spec.providerHeaders,
  });
  if (prepared.kind !== "new")
    throw new Error("a workflow step's run has no idempotency key, so it is always new");
  const task = await createTask(db, prepared.run, {
    message,
    actor: ctx.spec.actor,
    providerHeaders: ctx.spec.providerHeaders,
    links: { parentTaskId: null, executionId: ctx.spec.executionId, stepExecutionId: ctx.recordId },
    running: true,
  });
  return { run: prepared.run, taskId: task.id, spec: prepared.spec };
}

/** The text of the run's last assistant message. */
async function finalText(db: TenantDb, run: AgentRun): Promise<string> {
  const messages = await runMessages(db, run.id);
  for (const message of messages.toReversed()) {
    if (message.role !== "assistant") continue;
    const blocks = message.content as { type: string; text?: string }[];
    const text = blocks
      .filter((b) => b.type === "text")
      .map((b) => b.text ?? "")
      .join("");
    if (text) return text;
  }
  return "";
}
