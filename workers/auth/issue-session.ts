import { sessions } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import type { Context } from "../app";
import type { TokenPair } from "../routes/auth/schemas";
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from "./jwt";
import type { Role } from "./roles";
import { mintOpaqueToken, REFRESH_TOKEN_TTL_SECONDS } from "./sessions";

/**
 * Opens a session for a user who just proved who they are (login, accepted invitation) and
 * returns the token pair. Runs in the caller's tenant transaction.
 */
export async function issueSession(
  c: Context,
  db: TenantDb,
  user: { userId: string; role: Role },
): Promise<TokenPair> {
  const refresh = await mintOpaqueToken("mrt");
  const [session] = await db
    .insert(sessions)
    .values({
      tenantId: db.tenantId,
      userId: user.userId,
      refreshHash: refresh.hash,
      expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000),
      userAgent: c.req.header("user-agent")?.slice(0, 256) ?? null,
      ip: c.req.header("cf-connecting-ip") ?? null,
    })
    .returning({ id: sessions.id });
  if (!session) throw new Error("session insert returned no row");
  return tokenPair(c, db.tenantId, user, session.id, refresh.token);
}

/** Signs an access token for a session and pairs it with its refresh token. */
export async function tokenPair(
  c: Context,
  tenantId: string,
  user: { userId: string; role: Role },
  sessionId: string,
  refreshToken: string,
): Promise<TokenPair> {
  const access = await signAccessToken(c.get("config"), {
    tenantId,
    userId: user.userId,
    role: user.role,
    sessionId,
  });
  return {
    tokenType: "Bearer",
    accessToken: access.token,
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    refreshToken,
    refreshExpiresIn: REFRESH_TOKEN_TTL_SECONDS,
  };
}
