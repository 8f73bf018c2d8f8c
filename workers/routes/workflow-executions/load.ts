import { and, asc, eq } from "drizzle-orm";
import { workflowExecutions, workflowStepExecutions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { WorkflowExecution, WorkflowStepExecution } from "../../../db/types";
import type { Env } from "../../env";
import { ApiError } from "../../lib/errors";

/** Statuses of an execution that has not ended. */
export const ACTIVE_EXECUTION_STATUSES = ["pending", "running", "waiting"] as const;

export function isExecutionActive(row: Pick<WorkflowExecution, "status">): boolean {
  return (ACTIVE_EXECUTION_STATUSES as readonly string[]).includes(row.status);
}

/** The execution, or 404: another tenant's is not visible under RLS, so it is a 404 too. */
export async function loadExecution(db: TenantDb, id: string): Promise<WorkflowExecution> {
  const [row] = await db
    .select()
    .from(workflowExecutions)
    .where(and(eq(workflowExecutions.tenantId, db.tenantId), eq(workflowExecutions.id, id)));
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Workflow execution ${id} not found.` });
  return row;
}

export function loadStepAttempts(db: TenantDb, executionId: string): Promise<WorkflowStepExecution[]> {
  return db
    .select()
    .from(workflowStepExecutions)
    .where(
      and(
        eq(workflowStepExecutions.tenantId, db.tenantId),
        eq(workflowStepExecutions.executionId, executionId),
      ),
    )
    .orderBy(asc(workflowStepExecutions.sequence));
}

/**
 * The Durable Object of an execution, named `<tenant>:<execution>` like every key Meridian keeps
 * outside PostgreSQL. Callers load the execution through the tenant's transaction first, so
 * another tenant's execution is a 404 before any object is reached.
 */
export function executionObject(env: Env, row: Pick<WorkflowExecution, "tenantId" | "id">) {
  return env.WORKFLOW_EXECUTION.get(env.WORKFLOW_EXECUTION.idFromName(`${row.tenantId}:${row.id}`));
}
