import { Ratelimit } from "@upstash/ratelimit";
import type { Context } from "../app";
import type { Config } from "../env";
import { ApiError } from "./errors";
import type { Logger } from "./logger";
import { redisFor } from "./redis";

/** Named limits. Windows are sliding so a burst at a window edge cannot double the rate. */
export const POLICIES = {
  /** Every authenticated credential (API key, user session). */
  credential: { limit: 600, windowSeconds: 60 },
  /** A whole tenant, across its credentials. */
  tenant: { limit: 3000, windowSeconds: 60 },
  /** Unauthenticated routes, per client IP. */
  ip: { limit: 120, windowSeconds: 60 },
  /** Login attempts per account name (tenant + email). */
  login: { limit: 10, windowSeconds: 900 },
} as const;
export type PolicyName = keyof typeof POLICIES;

export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window frees capacity. */
  resetSeconds: number;
  /** False when Redis could not answer and the request was let through. */
  enforced: boolean;
}

const limiters = new Map<string, Ratelimit>();

/**
 * Identifiers this isolate saw denied, until their window frees capacity: a client that keeps
 * going past its limit is refused here without a Redis call and without a database connection.
 */
const deniedUntil = new Map<string, number>();
const DENIED_MEMORY = 10_000;

function rememberDenied(key: string, resetAt: number): void {
  if (deniedUntil.size >= DENIED_MEMORY) {
    const oldest = deniedUntil.keys().next().value;
    if (oldest !== undefined) deniedUntil.delete(oldest);
  }
  deniedUntil.set(key, resetAt);
}

/** The verdict for an identifier this isolate knows is over the limit (see `knownDenied`). */
export function deniedVerdict(name: PolicyName, identifier: string): RateLimitVerdict {
  const until = deniedUntil.get(`${name}|${identifier}`) ?? Date.now();
  return {
    allowed: false,
    limit: POLICIES[name].limit,
    remaining: 0,
    resetSeconds: Math.max(1, Math.ceil((until - Date.now()) / 1000)),
    enforced: true,
  };
}

/** Whether this isolate already knows `identifier` is over `name`'s limit. */
export function knownDenied(name: PolicyName, identifier: string): boolean {
  const until = deniedUntil.get(`${name}|${identifier}`);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  deniedUntil.delete(`${name}|${identifier}`);
  return false;
}

function limiterFor(config: Config, name: PolicyName): Ratelimit {
  const key = `${config.UPSTASH_REDIS_REST_URL}|${name}`;
  let limiter = limiters.get(key);
  if (!limiter) {
    const policy = POLICIES[name];
    limiter = new Ratelimit({
      redis: redisFor(config),
      limiter: Ratelimit.slidingWindow(policy.limit, `${policy.windowSeconds} s`),
      prefix: `meridian:rl:${name}`,
      analytics: false,
      // Past this the library lets the request through: a slow Redis must not stall the API.
      timeout: 1000,
      // With analytics off, `pending` resolves at once, so no waitUntil is owed for it.
    });
    limiters.set(key, limiter);
  }
  return limiter;
}

/**
 * Checks and counts one request against a policy. Fails open: when Redis is unreachable the
 * request is allowed, a warning is logged and the verdict says `enforced: false` (an outage
 * of the limiter must not become an outage of the API; see docs/api-conventions.md).
 */
export async function checkRateLimit(
  config: Config,
  logger: Logger,
  name: PolicyName,
  identifier: string,
): Promise<RateLimitVerdict> {
  const policy = POLICIES[name];
  const key = `${name}|${identifier}`;
  if (knownDenied(name, identifier)) return deniedVerdict(name, identifier);
  try {
    const r = await limiterFor(config, name).limit(identifier);
    if (!r.success) rememberDenied(key, r.reset);
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
    return { allowed: true, limit: policy.limit, remaining: policy.limit, resetSeconds: 0, enforced: false };
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
  const policy = POLICIES[name];
  // Appended: a request checked against two policies (credential and tenant) reports both.
  c.header("RateLimit-Policy", `"${name}";q=${policy.limit};w=${policy.windowSeconds}`, { append: true });
  c.header("RateLimit", `"${name}";r=${verdict.remaining};t=${verdict.resetSeconds}`, { append: true });
  if (!verdict.allowed) {
    throw new ApiError("RATE_LIMITED", {
      limit: name,
      detail: `Rate limit "${name}" of ${policy.limit} per ${policy.windowSeconds}s exceeded.`,
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
