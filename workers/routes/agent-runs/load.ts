import { and, eq } from "drizzle-orm";
import { agentRuns } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { AgentRun } from "../../../db/types";
import { ApiError } from "../../lib/errors";

/**
 * A run of the caller's tenant. Another tenant's run is hidden by RLS: 404 like an id that
 * never existed, before anything reaches the run's Durable Object.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadRun(db: TenantDb, id: string): Promise<AgentRun> {
  const [run] = await db
    .select()
    .from(agentRuns)
    .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, id)));
  if (!run) throw new ApiError("NOT_FOUND", { detail: `Agent run ${id} not found.` });
  return run;
}
