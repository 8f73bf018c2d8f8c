import { and, eq, isNull } from "drizzle-orm";
import { agents } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Agent } from "../../../db/types";
import { ApiError } from "../../lib/errors";

/**
 * A live agent of the caller's tenant. RLS already hides other tenants' rows, so a foreign
 * id is simply absent: 404, the same as an id that never existed.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadAgent(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<Agent> {
  const query = db
    .select()
    .from(agents)
    .where(and(eq(agents.tenantId, db.tenantId), eq(agents.id, id), isNull(agents.deletedAt)));
  const [agent] = opts.forUpdate ? await query.for("update") : await query;
  if (!agent) throw new ApiError("NOT_FOUND", { detail: `Agent ${id} not found.` });
  return agent;
}
