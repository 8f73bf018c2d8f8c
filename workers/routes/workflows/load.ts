import { and, eq, isNull } from "drizzle-orm";
import { workflows, workflowVersions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Workflow, WorkflowVersion } from "../../../db/types";
import { ApiError } from "../../lib/errors";

/**
 * A live workflow of the caller's tenant. RLS already hides other tenants' rows, so a foreign
 * id is simply absent: 404, the same as an id that never existed or a deleted workflow.
 *
 * @throws ApiError NOT_FOUND
 * @example
 * const workflow = await loadWorkflow(c.get("db"), id);
 */
export async function loadWorkflow(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<Workflow> {
  const query = db
    .select()
    .from(workflows)
    .where(and(eq(workflows.tenantId, db.tenantId), eq(workflows.id, id), isNull(workflows.deletedAt)));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Workflow ${id} not found.` });
  return row;
}

/**
 * One immutable version of a workflow. It does not check that the workflow is live: an
 * execution keeps reading the version it started with after the workflow is deleted. Call
 * `loadWorkflow` first where a deleted workflow must be 404.
 *
 * @throws ApiError NOT_FOUND when the workflow has no such version.
 * @example
 * const pinned = await loadWorkflowVersion(db, workflow.id, workflow.currentVersion);
 */
export async function loadWorkflowVersion(
  db: TenantDb,
  workflowId: string,
  version: number,
): Promise<WorkflowVersion> {
  const [row] = await db
    .select()
    .from(workflowVersions)
    .where(
      and(
        eq(workflowVersions.tenantId, db.tenantId),
        eq(workflowVersions.workflowId, workflowId),
        eq(workflowVersions.version, version),
      ),
    );
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Workflow ${workflowId} has no version ${version}.` });
  return row;
}
