import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../env";
import { ApiError } from "../lib/errors";
import { newId } from "../lib/ids";
import type { Principal } from "./principal";
import { role } from "./roles";

/** Access tokens are short-lived; refresh tokens (sessions) carry the long life. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** Allowed clock difference between issuer and verifier when checking exp/nbf. */
const CLOCK_SKEW_SECONDS = 30;
const ALGORITHM = "HS256";

interface SigningKey {
  kid: string;
  key: Uint8Array;
}

const keyCache = new Map<string, SigningKey[]>();

/** Parses `kid:secret,kid:secret`; the first key signs, all verify (rotation by kid). */
export function signingKeys(config: Pick<Config, "AUTH_JWT_SECRETS">): SigningKey[] {
  const cached = keyCache.get(config.AUTH_JWT_SECRETS);
  if (cached) return cached;
  const keys = config.AUTH_JWT_SECRETS.split(",").map((pair) => {
    const at = pair.indexOf(":");
    const kid = pair.slice(0, at).trim();
    const secret = pair.slice(at + 1).trim();
    if (at < 1 || secret.length < 32)
      throw new ApiError("BAD_ENVIRONMENT", { detail: "AUTH_JWT_SECRETS is invalid" });
    return { kid, key: new TextEncoder().encode(secret) };
  });
  keyCache.set(config.AUTH_JWT_SECRETS, keys);
  return keys;
}

const accessClaims = z.object({
  sub: z.string().uuid(),
  tid: z.string().uuid(),
  sid: z.string().uuid(),
  role,
  jti: z.string().min(1),
  exp: z.number().int(),
});

type JwtConfig = Pick<Config, "AUTH_JWT_SECRETS" | "AUTH_JWT_ISSUER" | "AUTH_JWT_AUDIENCE">;

/**
 * Signs an access token for a user session.
 *
 * @example
 * const { token, expiresAt } = await signAccessToken(config, { tenantId, userId, role: "admin", sessionId });
 */
export async function signAccessToken(
  config: JwtConfig,
  claims: { tenantId: string; userId: string; role: z.infer<typeof role>; sessionId: string },
  now: number = Math.floor(Date.now() / 1000),
): Promise<{ token: string; expiresAt: number; jti: string }> {
  const [current] = signingKeys(config);
  if (!current) throw new ApiError("BAD_ENVIRONMENT", { detail: "no JWT signing key" });
  const jti = newId();
  const expiresAt = now + ACCESS_TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ tid: claims.tenantId, sid: claims.sessionId, role: claims.role })
    .setProtectedHeader({ alg: ALGORITHM, kid: current.kid, typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuer(config.AUTH_JWT_ISSUER)
    .setAudience(config.AUTH_JWT_AUDIENCE)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(expiresAt)
    .setJti(jti)
    .sign(current.key);
  return { token, expiresAt, jti };
}

/**
 * Verifies an access token: algorithm pinned to HS256, key chosen by `kid`, `iss`, `aud`,
 * `exp` and `nbf` checked with a small skew, claims parsed with zod. Revocation is checked
 * by the caller (it needs Redis).
 *
 * @throws ApiError UNAUTHENTICATED for any defect, without saying which (no oracle).
 */
export async function verifyAccessToken(
  config: JwtConfig,
  token: string,
): Promise<Extract<Principal, { kind: "user" }>> {
  const unauthenticated = new ApiError("UNAUTHENTICATED", {
    detail: "The access token is invalid or expired.",
  });
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== ALGORITHM) throw unauthenticated;
    kid = header.kid;
  } catch {
    throw unauthenticated;
  }
  const key = signingKeys(config).find((k) => k.kid === kid);
  if (!key) throw unauthenticated;
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [ALGORITHM],
      issuer: config.AUTH_JWT_ISSUER,
      audience: config.AUTH_JWT_AUDIENCE,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "nbf", "iat", "jti", "sub"],
    });
    const claims = accessClaims.parse(payload);
    return {
      kind: "user",
      tenantId: claims.tid,
      userId: claims.sub,
      role: claims.role,
      sessionId: claims.sid,
      jti: claims.jti,
      expiresAt: claims.exp,
    };
  } catch (error) {
    if (error instanceof errors.JOSEError || error instanceof z.ZodError) throw unauthenticated;
    throw error;
  }
}
