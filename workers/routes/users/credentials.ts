import { and, eq, gt, inArray, isNull, ne, type SQL } from "drizzle-orm";
import { apiKeys, invitations, passwordResets, sessions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { mayGrant, type Role, role } from "../../auth/roles";

/**
 * Ends a user's sessions. Their refresh tokens and their access tokens stop working at once:
 * every authenticated request re-checks its session row (see middleware/tenant-db.ts).
 *
 * @example
 * await revokeUserSessions(db, user.id, { exceptSessionId: principal.sessionId });
 */
export async function revokeUserSessions(
  db: TenantDb,
  userId: string,
  opts: { exceptSessionId?: string } = {},
): Promise<number> {
  const filters: SQL[] = [
    eq(sessions.tenantId, db.tenantId),
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
  ];
  if (opts.exceptSessionId) filters.push(ne(sessions.id, opts.exceptSessionId));
  const rows = await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(...filters))
    .returning({ id: sessions.id });
  return rows.length;
}

/**
 * Expires a user's open password-reset links: after the password changed (or a newer link was
 * sent), an older emailed link must not set it again.
 */
export async function expireOpenResets(db: TenantDb, userId: string): Promise<void> {
  const now = new Date();
  await db
    .update(passwordResets)
    .set({ expiresAt: now })
    .where(
      and(
        eq(passwordResets.tenantId, db.tenantId),
        eq(passwordResets.userId, userId),
        isNull(passwordResets.usedAt),
        gt(passwordResets.expiresAt, now),
      ),
    );
}

/** What `revokeDelegations` took away, for the audit record. */
export interface RevokedDelegations {
  /** Ids of the API keys it revoked. */
  apiKeys: string[];
  /** Ids of the pending invitations it deleted. */
  invitations: string[];
}

/**
 * Withdraws the authority a user handed on: the API keys they created are revoked and the
 * invitations they sent that are still pending are deleted. Both carry a role of their own and
 * are checked against nothing else at use, so without this a deleted or demoted user's key or
 * invitation would keep working at the role they had. With `above`, only keys and invitations
 * whose role `above` may not grant go (a demotion); without it, all of them (deletion, disabling).
 *
 * @example
 * const revoked = await revokeDelegations(db, user.id, { above: "member" });
 */
export async function revokeDelegations(
  db: TenantDb,
  userId: string,
  opts: { above?: Role } = {},
): Promise<RevokedDelegations> {
  const { above } = opts;
  const roles = above ? role.options.filter((r) => !mayGrant(above, r)) : role.options;
  if (roles.length === 0) return { apiKeys: [], invitations: [] };
  const keys = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(
      and(
        eq(apiKeys.tenantId, db.tenantId),
        eq(apiKeys.createdByUserId, userId),
        isNull(apiKeys.revokedAt),
        inArray(apiKeys.role, roles),
      ),
    )
    .returning({ id: apiKeys.id });
  const pending = await db
    .delete(invitations)
    .where(
      and(
        eq(invitations.tenantId, db.tenantId),
        eq(invitations.invitedByUserId, userId),
        isNull(invitations.acceptedAt),
        inArray(invitations.role, roles),
      ),
    )
    .returning({ id: invitations.id });
  return { apiKeys: keys.map((k) => k.id), invitations: pending.map((i) => i.id) };
}
