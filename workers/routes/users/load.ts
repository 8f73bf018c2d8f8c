import { and, asc, eq, isNull } from "drizzle-orm";
import { users } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { User } from "../../../db/types";
import type { TenantPrincipal } from "../../auth/principal";
import { mayGrant } from "../../auth/roles";
import { ApiError } from "../../lib/errors";

/**
 * A live (not deleted) user of the caller's tenant. RLS hides other tenants' rows, so a foreign
 * id is a 404 like an unknown one.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadUser(db: TenantDb, id: string, opts: { forUpdate?: boolean } = {}): Promise<User> {
  const query = db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, db.tenantId), eq(users.id, id), isNull(users.deletedAt)));
  const [user] = opts.forUpdate ? await query.for("update") : await query;
  if (!user) throw new ApiError("NOT_FOUND", { detail: `User ${id} not found.` });
  return user;
}

/**
 * Locks the tenant's active owners, in id order, and returns their ids. Every route that can
 * remove an owner calls this before touching the target row: two admins demoting the last two
 * owners at once then queue on the same locks, and the second sees the first's change, instead
 * of each counting the other and leaving the tenant ownerless. A consistent lock order also
 * keeps two such requests from deadlocking.
 */
export async function lockActiveOwners(db: TenantDb): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        eq(users.tenantId, db.tenantId),
        eq(users.role, "owner"),
        eq(users.status, "active"),
        isNull(users.deletedAt),
      ),
    )
    .orderBy(asc(users.id))
    .for("update");
  return rows.map((r) => r.id);
}

/**
 * Refuses to act on a user who outranks the caller: an admin may not demote, disable or delete
 * an owner. The platform admin may act on anyone.
 *
 * @throws ApiError FORBIDDEN
 */
export function assertMayManage(caller: TenantPrincipal | { kind: "platform_admin" }, target: User): void {
  if (caller.kind !== "platform_admin" && !mayGrant(caller.role, target.role)) {
    throw new ApiError("FORBIDDEN", {
      detail: `A ${caller.role} cannot manage a user with the ${target.role} role.`,
    });
  }
}

/**
 * Refuses a change that would leave the tenant without an active owner. `owners` must come
 * from `lockActiveOwners` in the same transaction.
 *
 * @throws ApiError CONFLICT
 */
export function assertKeepsAnOwner(owners: string[], target: User, stillActiveOwner: boolean): void {
  if (stillActiveOwner || !owners.includes(target.id)) return;
  if (owners.length <= 1) {
    throw new ApiError("CONFLICT", {
      detail: "This is the tenant's last active owner; make another user owner first.",
    });
  }
}
