import { randomBytes, sha256Hex, toBase64Url } from "../lib/bytes";

/** Refresh tokens (sessions) last 30 days and rotate on every use. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/**
 * A new opaque token (refresh, invitation, password reset): 256 random bits, of which only
 * the SHA-256 is stored.
 */
export async function mintOpaqueToken(prefix: string): Promise<{ token: string; hash: string }> {
  const token = `${prefix}_${toBase64Url(randomBytes(32))}`;
  return { token, hash: await sha256Hex(token) };
}
