import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../env";

const clients = new Map<string, Redis>();

/**
 * The Upstash Redis client for this isolate. It speaks HTTP through `fetch`, holds no
 * socket, and so may outlive a request. Retries are kept to one: a dead Redis must surface
 * in milliseconds (the rate limiter then fails open, see docs/api-conventions.md), not after
 * the client's default five backoffs.
 */
export function redisFor(config: Pick<Config, "UPSTASH_REDIS_REST_URL" | "UPSTASH_REDIS_REST_TOKEN">): Redis {
  const key = `${config.UPSTASH_REDIS_REST_URL}|${config.UPSTASH_REDIS_REST_TOKEN}`;
  let client = clients.get(key);
  if (!client) {
    client = new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      retry: { retries: 1, backoff: () => 50 },
      enableTelemetry: false,
    });
    clients.set(key, client);
  }
  return client;
}
