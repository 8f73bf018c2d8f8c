import { and, eq, inArray } from "drizzle-orm";
import { agentRuns } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { AgentRun } from "../../../db/types";
import { type Env, parseConfig } from "../../env";
import { ApiError } from "../../lib/errors";
import { runObject } from "./object";
import { ACTIVE_RUN_STATUSES } from "./prepare";
import { isTaskFinished, loadTask, settleTask } from "./tasks";

/**
 * Cancels a run: a run executing in its Durable Object is stopped there (it winds down and
 * records `cancelled` itself); one that never reached an object (a queued async run) is ended
 * here, with its task.
 *
 * @returns `stopping` with the run as it was, or `cancelled` with the ended record.
 * @throws ApiError CONFLICT when the run has already ended.
 */
export async function cancelRun(
  db: TenantDb,
  env: Env,
  run: AgentRun,
): Promise<{ state: "stopping" | "cancelled"; run: AgentRun }> {
  if (!(ACTIVE_RUN_STATUSES as readonly string[]).includes(run.status)) {
    throw new ApiError("CONFLICT", { detail: `Run ${run.id} already ended (${run.status}).` });
  }
  if ((await runObject(env, run).cancel()) === "cancelling") return { state: "stopping", run };

  const [ended] = await db
    .update(agentRuns)
    .set({ status: "cancelled", stopReason: "cancelled", pendingApproval: null, finishedAt: new Date() })
    .where(
      and(
        eq(agentRuns.tenantId, db.tenantId),
        eq(agentRuns.id, run.id),
        inArray(agentRuns.status, [...ACTIVE_RUN_STATUSES]),
      ),
    )
    .returning();
  const [current] = ended
    ? [ended]
    : await db
        .select()
        .from(agentRuns)
        .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, run.id)));
  const finalRun = current ?? run;
  if (finalRun.taskId && finalRun.status === "cancelled") {
    const task = await loadTask(db, finalRun.taskId);
    if (!isTaskFinished(task)) await settleTask(db, env.JOBS, parseConfig(env), task, finalRun);
  }
  return { state: "cancelled", run: finalRun };
}
