import type { Redis } from "@upstash/redis/cloudflare";

const key = (jti: string) => `meridian:revoked:${jti}`;

/**
 * Revokes an access token until it would have expired anyway, so logout takes effect at
 * once while the revocation list stays as small as the set of live tokens.
 */
export async function revokeAccessToken(redis: Redis, jti: string, expiresAt: number): Promise<void> {
  const ttl = Math.max(1, expiresAt - Math.floor(Date.now() / 1000));
  await redis.set(key(jti), 1, { ex: ttl });
}

/** Whether a token was revoked. */
export async function isRevoked(redis: Redis, jti: string): Promise<boolean> {
  return (await redis.exists(key(jti))) === 1;
}
