import type { Redis } from "@upstash/redis/cloudflare";
import type { TenantFootprint } from "./footprint";

/** Keys per SCAN page and per DEL. */
const PAGE = 500;

/**
 * Deletes every Redis key that names the tenant: its cache scopes (`cache:v1:<tenant>:...`)
 * and the rate-limit windows of the tenant, its credentials and its users' sign-in names
 * (`meridian:rl:<policy>:<identifier>:<window>`, see workers/lib/rate-limit.ts). Returns how
 * many keys went.
 */
export async function eraseRedisKeys(redis: Redis, footprint: TenantFootprint): Promise<number> {
  const tenant = footprint.tenantId.toLowerCase();
  const named = rateLimitIdentifiers(footprint);
  const cacheKeys = await scanAll(redis, `cache:v1:${tenant}:*`);
  const limiterKeys = (await scanAll(redis, "meridian:rl:*")).filter((key) =>
    named.some((identifier) => key.includes(identifier)),
  );
  const doomed = [...cacheKeys, ...limiterKeys];
  for (let i = 0; i < doomed.length; i += PAGE) await redis.del(...doomed.slice(i, i + PAGE));
  return doomed.length;
}

/** The identifiers the rate limiter counts this tenant's traffic under, each with its delimiters. */
function rateLimitIdentifiers(footprint: TenantFootprint): string[] {
  const signIns = footprint.slug ? footprint.emails.map((email) => `${footprint.slug}:${email}`) : [];
  return [
    footprint.tenantId,
    ...footprint.userIds.map((id) => `user:${id}`),
    ...footprint.keyHashes.map((hash) => `key:${hash}`),
    ...signIns,
  ].map((identifier) => `:${identifier}:`);
}

async function scanAll(redis: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = await redis.scan(cursor, { match, count: PAGE });
    keys.push(...page);
    cursor = String(next);
  } while (cursor !== "0");
  return keys;
}
