import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { findSession } from "../../../db/privileged";
import { sessions, users } from "../../../db/schema";
import type { App } from "../../app";
import { tokenPair } from "../../auth/issue-session";
import { role as roleSchema } from "../../auth/roles";
import { mintOpaqueToken, REFRESH_TOKEN_TTL_SECONDS } from "../../auth/sessions";
import { audit } from "../../lib/audit";
import { sha256Hex } from "../../lib/bytes";
import { requestConnection } from "../../lib/connection";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { limitPerIp } from "../../lib/rate-limit";
import { runInTenant } from "../../middleware/tenant-db";
import { revokeUserSessions } from "../users/credentials";
import { type TokenPair, tokenPairSchema } from "./schemas";

const body = z
  .object({ refreshToken: z.string().min(1).max(256) })
  .strict()
  .openapi("RefreshRequest");

const route = createRoute({
  operationId: "refreshToken",
  tags: ["auth"],
  method: "post",
  path: "/v1/auth/refresh",
  summary: "Exchange a refresh token for a new token pair (the old refresh token stops working)",
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    200: { description: "New tokens.", content: { "application/json": { schema: tokenPairSchema } } },
    ...problemResponses(400, 401, 413, 429, 500),
  },
});

export function registerRefreshToken(app: App) {
  app.openapi(route, async (c) => {
    const { refreshToken } = c.req.valid("json");
    await limitPerIp(c);
    const invalid = new ApiError("UNAUTHENTICATED", {
      detail: "The refresh token is invalid, expired or revoked.",
    });
    const session = await findSession(await requestConnection(c), await sha256Hex(refreshToken));
    if (session?.reused) {
      // A refresh token that was already rotated away is back: it was copied, and one of its
      // two holders is not the user. End every session of the user; both must sign in again.
      await runInTenant(c, session.tenantId, async () => {
        const ended = await revokeUserSessions(c.get("db"), session.userId);
        await audit(c, {
          action: "auth.refresh_reuse",
          resourceType: "session",
          resourceId: session.sessionId,
          actor: { type: "system", id: null },
          changes: { sessionsEnded: ended },
        });
      });
      throw invalid;
    }
    if (!session || session.revokedAt || session.expiresAt.getTime() <= Date.now()) throw invalid;

    const next = await mintOpaqueToken("mrt");
    const pair = await runInTenant<TokenPair>(c, session.tenantId, async (db, state) => {
      if (!state.tenantActive) throw invalid;
      // Rotation is a compare-and-swap on the old hash: of two concurrent refreshes with the
      // same token, exactly one wins.
      const [rotated] = await db
        .update(sessions)
        .set({
          refreshHash: next.hash,
          previousRefreshHash: session.refreshHash,
          expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000),
        })
        .where(
          and(
            eq(sessions.id, session.sessionId),
            eq(sessions.refreshHash, session.refreshHash),
            isNull(sessions.revokedAt),
          ),
        )
        .returning({ id: sessions.id });
      const [user] = await db
        .select({ role: users.role, status: users.status })
        .from(users)
        .where(and(eq(users.id, session.userId), isNull(users.deletedAt)));
      if (!rotated || !user || user.status !== "active") throw invalid;
      return tokenPair(
        c,
        db.tenantId,
        { userId: session.userId, role: roleSchema.parse(user.role) },
        session.sessionId,
        next.token,
      );
    });
    return c.json(pair, 200);
  });
}
