import { and, eq, isNull } from "drizzle-orm";
import { tenants } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Tenant } from "../../../db/types";
import { ApiError } from "../../lib/errors";

/**
 * The tenant the transaction is scoped to: the caller's own, or the one a platform admin
 * names in the path. RLS shows no other tenant row, so an unknown or deleted id is a 404.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadTenant(db: TenantDb, opts: { forUpdate?: boolean } = {}): Promise<Tenant> {
  const query = db
    .select()
    .from(tenants)
    .where(and(eq(tenants.id, db.tenantId), isNull(tenants.deletedAt)));
  const [tenant] = opts.forUpdate ? await query.for("update") : await query;
  if (!tenant) throw new ApiError("NOT_FOUND", { detail: `Tenant ${db.tenantId} not found.` });
  return tenant;
}
