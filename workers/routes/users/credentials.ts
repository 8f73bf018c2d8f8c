import { and, eq, gt, isNull, ne, type SQL } from "drizzle-orm";
import { passwordResets, sessions } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";

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
