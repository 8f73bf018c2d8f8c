import { and, eq, inArray } from "drizzle-orm";
import { connect } from "../../db/client";
import { agentRuns, agentTasks } from "../../db/schema";
import { withTenant } from "../../db/tenant";
import { runObject } from "../../workers/agents/run/object";
import { ACTIVE_RUN_STATUSES, specForStoredRun } from "../../workers/agents/run/prepare";
import type { RunSpec } from "../../workers/agents/run/spec";
import { isTaskFinished, settleTask, type TaskInput } from "../../workers/agents/run/tasks";
import { type Env, parseConfig } from "../../workers/env";
import { ApiError } from "../../workers/lib/errors";
import type { Logger } from "../../workers/lib/logger";
import type { JobMessage } from "./message";

type AgentTaskJob = Extract<JobMessage, { type: "agent_task" }>;

/**
 * Runs one async agent task: hands its stored run to the run's Durable Object, waits for it,
 * then settles the task (result, usage, completion webhook). Safe to redeliver at any point:
 * a settled task is left alone, the object starts a run only once (a second start attaches to
 * the first), and settling is one transaction whose webhook has the task's event id.
 *
 * @throws when the run could not be carried out (the consumer retries; the last error is kept
 *   on the task, and the dead-letter queue marks it failed).
 */
export async function runAgentTask(env: Env, job: AgentTaskJob, logger: Logger): Promise<void> {
  const config = parseConfig(env);
  const client = await connect(config);
  try {
    const spec = await withTenant(client, job.tenantId, async (db): Promise<RunSpec | null> => {
      const [task] = await db
        .select()
        .from(agentTasks)
        .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, job.taskId)));
      if (!task || isTaskFinished(task) || !task.runId) return null;
      const [run] = await db
        .select()
        .from(agentRuns)
        .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, task.runId)));
      if (!run) return null;
      if (!(ACTIVE_RUN_STATUSES as readonly string[]).includes(run.status)) {
        // The run ended (cancelled while queued, or a delivery died after it finished).
        await settleTask(db, env.JOBS, config, task, run);
        return null;
      }
      await db
        .update(agentTasks)
        .set({ status: "running", attempts: task.attempts + 1, startedAt: task.startedAt ?? new Date() })
        .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, task.id)));
      const input = task.input as TaskInput;
      return specForStoredRun(db, config, run, input.actor, input.providerHeaders ?? {});
    }).catch(async (error: unknown) => {
      // The agent version is gone or its model no longer allowed: retrying cannot help.
      if (error instanceof ApiError && (error.code === "NOT_FOUND" || error.code === "UNPROCESSABLE")) {
        await failTask(client, env, job, error.message);
        return null;
      }
      throw error;
    });
    if (!spec) return;

    const object = runObject(env, { tenantId: spec.tenantId, id: spec.runId });
    await object.start(spec);
    const summary = await object.result();
    if (!summary) throw new Error(`run ${spec.runId} did not report a result`);

    await withTenant(client, job.tenantId, async (db) => {
      const [task] = await db
        .select()
        .from(agentTasks)
        .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, job.taskId)));
      const [run] = await db
        .select()
        .from(agentRuns)
        .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, spec.runId)));
      if (task && run && !isTaskFinished(task)) await settleTask(db, env.JOBS, config, task, run);
    });
    logger.info("agent task finished", { taskId: job.taskId, status: summary.status });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    await recordAttemptError(client, job, detail).catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Keeps the latest failure on the task while the queue retries it. */
async function recordAttemptError(
  client: Awaited<ReturnType<typeof connect>>,
  job: AgentTaskJob,
  detail: string,
): Promise<void> {
  await withTenant(client, job.tenantId, (db) =>
    db
      .update(agentTasks)
      .set({ error: detail.slice(0, 2000) })
      .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, job.taskId))),
  );
}

/**
 * Ends a task that cannot be carried out: its run (if still unfinished) fails with `detail`,
 * and the task settles from it like any other, completion webhook included.
 */
async function failTask(
  client: Awaited<ReturnType<typeof connect>>,
  env: Env,
  job: AgentTaskJob,
  detail: string,
): Promise<boolean> {
  return withTenant(client, job.tenantId, async (db) => {
    const [task] = await db
      .select()
      .from(agentTasks)
      .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, job.taskId)));
    if (!task || isTaskFinished(task)) return false;
    const error = `INTERNAL: ${detail}`.slice(0, 2000);
    const [run] = task.runId
      ? await db
          .update(agentRuns)
          .set({
            status: "failed",
            stopReason: "error",
            error,
            pendingApproval: null,
            finishedAt: new Date(),
          })
          .where(
            and(
              eq(agentRuns.tenantId, db.tenantId),
              eq(agentRuns.id, task.runId),
              inArray(agentRuns.status, [...ACTIVE_RUN_STATUSES]),
            ),
          )
          .returning()
      : [];
    const ended =
      run ??
      (task.runId
        ? (
            await db
              .select()
              .from(agentRuns)
              .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, task.runId)))
          )[0]
        : undefined);
    if (ended) {
      await settleTask(db, env.JOBS, parseConfig(env), task, ended);
    } else {
      await db
        .update(agentTasks)
        .set({ status: "failed", error, finishedAt: new Date() })
        .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, task.id)));
    }
    return true;
  });
}

/**
 * A task whose message exhausted its retries: marked failed (its last error kept), as is its
 * run if that never finished. Called by the dead-letter consumer.
 */
export async function failDeadAgentTask(env: Env, job: AgentTaskJob): Promise<boolean> {
  const client = await connect(parseConfig(env));
  try {
    const finished = await withTenant(client, job.tenantId, async (db) => {
      const [task] = await db
        .select()
        .from(agentTasks)
        .where(and(eq(agentTasks.tenantId, db.tenantId), eq(agentTasks.id, job.taskId)));
      return !task || isTaskFinished(task) ? null : task;
    });
    if (!finished) return false;
    const last = finished.error ? `; last error: ${finished.error}` : "";
    return await failTask(
      client,
      env,
      job,
      `the task kept failing and was moved to the dead-letter queue${last}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
