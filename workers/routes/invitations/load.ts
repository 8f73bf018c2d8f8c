import { and, eq } from "drizzle-orm";
import { invitations } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Invitation } from "../../../db/types";
import { ApiError } from "../../lib/errors";

/** @throws ApiError NOT_FOUND when the invitation is not the tenant's. */
export async function loadInvitation(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<Invitation> {
  const query = db
    .select()
    .from(invitations)
    .where(and(eq(invitations.tenantId, db.tenantId), eq(invitations.id, id)));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Invitation ${id} not found.` });
  return row;
}
