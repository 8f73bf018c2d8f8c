import { Ratelimit } from "@upstash/ratelimit";
import type { Context } from "../app";
import type { Config } from "../env";
import { ApiError } from "./errors";
import { PLATFORM_DEFAULTS } from "./limits";
import type { Logger } from "./logger";
import { redisFor } from "./redis";

/** A tenant's credentials share five times what one of them may send (600 -> 3000). */
export const TENANT_LIMIT_FACTOR = 5;

/**
 * Named limits. Windows are sliding so a burst at a window edge cannot double the rate. The
 * `credential` and `tenant` limits here are the platform defaults: a tenant's own come from
 * its `requestsPerMinute` (see `tenantRateLimits`); the platform admin always has these.
 */
export const POLICIES = {
  /** Every authenticated credential (API key, user session). */
  credential: { limit: PLATFORM_DEFAULTS.requestsPerMinute, windowSeconds: 60 },
  /** A whole tenant, across its credentials. */
  tenant: { limit: PLATFORM_DEFAULTS.requestsPerMinute * TENANT_LIMIT_FACTOR, windowSeconds: 60 },
  /** Unauthenticated routes, per client IP. */
  ip: { limit: 120, windowSeconds: 60 },
  /** Login attempts per account name (tenant + email). */
  login: { limit: 10, windowSeconds: 900 },
} as const;
export type PolicyName = keyof typeof POLICIES;

/**
 * The `credential` and `tenant` limits of one of a tenant's credentials: the tenant's effective
 * `requestsPerMinute` per credential, or the key's own when it has one (never above the
 * tenant's, which may have been lowered since the key was made), and five times the tenant's
 * across all of them.
 *
 * @example
 * tenantRateLimits(3, null) // { credential: 3, tenant: 15 }
 */
export function tenantRateLimits(
  tenantRequestsPerMinute: number,
  keyRequestsPerMinute?: number | null,
): { credential: number; tenant: number } {
  return {
    credential: Math.min(keyRequestsPerMinute ?? tenantRequestsPerMinute, tenantRequestsPerMinute),
    tenant: tenantRequestsPerMinute * TENANT_LIMIT_FACTOR,
  };
}

export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees capacity. */
  resetSeconds: number;
  /** False when Redis could not answer and the request was let through. */
  enforced: boolean;
}

/**
 * Sets `key` in an isolate-lifetime map holding at most `capacity` entries: the oldest makes
 * room, so memory stays bounded however many callers an isolate sees.
 *
 * @example
 * rememberBounded(deniedUntil, "credential|key:ab12", { until, limit }, 10_000);
 */
export function rememberBounded<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  if (map.size >= capacity && !map.has(key)) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}

/**
 * A limiter holds its limit, so there is one per (Redis, policy, limit): tenants' limits differ.
 * They all share the policy's key prefix, so an identifier keeps one window (one count) when its
 * limit changes, and only the number it is compared with moves.
 */
const limiters = new Map<string, Ratelimit>();
const LIMITER_MEMORY = 1_000;

/**
 * Identifiers this isolate saw denied, until their window frees capacity (and the limit they
 * were denied at, for the headers): a client that keeps going past its limit is refused here
 * without a Redis call and without a database connection.
 */
const deniedUntil = new Map<string, { until: number; limit: number }>();
const DENIED_MEMORY = 10_000;

/** The verdict for an identifier this isolate knows is over the limit (see `knownDenied`). */
export function deniedVerdict(name: PolicyName, identifier: string): RateLimitVerdict {
  const denied = deniedUntil.get(`${name}|${identifier}`);
  const until = denied?.until ?? Date.now();
  return {
    allowed: false,
    limit: denied?.limit ?? POLICIES[name].limit,
    remaining: 0,
    resetSeconds: Math.max(1, Math.ceil((until - Date.now()) / 1000)),
    enforced: true,
  };
}

/** Whether this isolate already knows `identifier` is over `name`'s limit. */
export function knownDenied(name: PolicyName, identifier: string): boolean {
  const denied = deniedUntil.get(`${name}|${identifier}`);
  if (denied === undefined) return false;
  if (denied.until > Date.now()) return true;
  deniedUntil.delete(`${name}|${identifier}`);
  return false;
}

function limiterFor(config: Config, name: PolicyName, limit: number): Ratelimit {
  const key = `${config.UPSTASH_REDIS_REST_URL}|${name}|${limit}`;
  let limiter = limiters.get(key);
  if (!limiter) {
    const policy = POLICIES[name];
    limiter = new Ratelimit({
      redis: redisFor(config),
      limiter: Ratelimit.slidingWindow(limit, `${policy.windowSeconds} s`),
      prefix: `meridian:rl:${name}`,
      analytics: false,
      // Past this the library lets the request through: a slow Redis must not stall the API.
      timeout: 1000,
      // With analytics off, `pending` resolves at once, so no waitUntil is owed for it.
    });
    rememberBounded(limiters, key, limiter, LIMITER_MEMORY);
  }
  return limiter;
}

/**
 * Checks and counts one request against a policy. Fails open: when Redis is unreachable the
 * request is allowed, a warning is logged and the verdict says `enforced: false` (an outage
 * of the limiter must not become an outage of the API; see docs/api-conventions.md).
 *
 * @param limit Requests per window for this identifier; the policy's own when omitted.
 */
export async function checkRateLimit(
  config: Config,
  logger: Logger,
  name: PolicyName,
  identifier: string,
  limit: number = POLICIES[name].limit,
): Promise<RateLimitVerdict> {
  if (knownDenied(name, identifier)) return deniedVerdict(name, identifier);
  try {
    const r = await limiterFor(config, name, limit).limit(identifier);
    if (!r.success)
      rememberBounded(deniedUntil, `${name}|${identifier}`, { until: r.reset, limit }, DENIED_MEMORY);
    return {
      allowed: r.success,
      limit: r.limit,
      remaining: Math.max(0, r.remaining),
      resetSeconds: Math.max(0, Math.ceil((r.reset - Date.now()) / 1000)),
      enforced: r.reason !== "timeout",
    };
  } catch (error) {
    logger.warn("rate limiter unavailable; allowing request", {
      policy: name,
      error: error instanceof Error ? error.name : "error",
    });
    return { allowed: true, limit, remaining: limit, resetSeconds: 0, enforced: false };
  }
}

/**
 * Applies a verdict to the response: IETF `RateLimit-Policy` / `RateLimit` headers, and a 429
 * problem with `Retry-After` when the limit is reached.
 *
 * @throws ApiError RATE_LIMITED when the verdict denies the request.
 */
export function applyRateLimit(c: Context, name: PolicyName, verdict: RateLimitVerdict): void {
  if (!verdict.enforced) return;
  const { windowSeconds } = POLICIES[name];
  // Appended: a request checked against two policies (credential and tenant) reports both.
  // The limit is the verdict's: a tenant's or key's own, not necessarily the policy default.
  c.header("RateLimit-Policy", `"${name}";q=${verdict.limit};w=${windowSeconds}`, { append: true });
  c.header("RateLimit", `"${name}";r=${verdict.remaining};t=${verdict.resetSeconds}`, { append: true });
  if (!verdict.allowed) {
    throw new ApiError("RATE_LIMITED", {
      limit: name,
      detail: `Rate limit "${name}" of ${verdict.limit} per ${windowSeconds}s exceeded.`,
      headers: { "Retry-After": String(Math.max(1, verdict.resetSeconds)) },
    });
  }
}

/** The caller's address as Cloudflare reports it; "unknown" when absent (local tools). */
export function clientIp(c: Context): string {
  return c.req.header("cf-connecting-ip") ?? "unknown";
}

/**
 * Rate-limits an unauthenticated route per client address.
 *
 * @throws ApiError RATE_LIMITED when the address is over the "ip" policy.
 */
export async function limitPerIp(c: Context): Promise<void> {
  applyRateLimit(c, "ip", await checkRateLimit(c.get("config"), c.get("logger"), "ip", clientIp(c)));
}
