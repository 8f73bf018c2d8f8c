import { and, eq } from "drizzle-orm";
import { apiKeys } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { ApiKey } from "../../../db/types";
import { mayGrant, type Role } from "../../auth/roles";
import { ApiError } from "../../lib/errors";

/** @throws ApiError NOT_FOUND when the key is not the tenant's. */
export async function loadApiKey(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ApiKey> {
  const query = db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, db.tenantId), eq(apiKeys.id, id)));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `API key ${id} not found.` });
  return row;
}

/**
 * Refuses to act on a key that outranks the caller: rotating or revoking an owner's key is an
 * owner's (or the platform admin's) business, and a rotation hands out a key of the same role.
 *
 * @throws ApiError FORBIDDEN
 */
export function requireRankOver(caller: { kind: string; role?: Role }, key: ApiKey): void {
  if (caller.kind === "platform_admin" || !caller.role) return;
  if (!mayGrant(caller.role, key.role)) {
    throw new ApiError("FORBIDDEN", {
      detail: `A ${caller.role} cannot manage a key with the ${key.role} role.`,
    });
  }
}
