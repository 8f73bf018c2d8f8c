import type { Redis } from "@upstash/redis/cloudflare";

/** Where every isolate's increments meet. */
export interface MetricsStore {
  /** Adds each increment to its series, all of them or none. */
  add(increments: ReadonlyMap<string, number>): Promise<void>;
  /** Every series' total. */
  read(): Promise<Map<string, number>>;
}

/** The hash holding every series' total, one field per series key. */
export function metricsKey(namespace: string): string {
  return `${namespace}:metrics:v1`;
}

// One command per flush, however many series changed: a pipeline of HINCRBYFLOATs would cost a
// request per series on Upstash's bill, and a script is applied whole or not at all.
const ADD_ALL = `for i = 1, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
return #ARGV / 2`;

/**
 * The metrics store in Redis: one hash, summed with HINCRBYFLOAT. Redis sees every isolate,
 * Durable Object and queue consumer, so its totals are the platform's.
 */
export function redisMetricsStore(redis: Redis, key: string): MetricsStore {
  return {
    async add(increments) {
      const args: string[] = [];
      for (const [series, value] of increments) args.push(series, String(value));
      if (args.length > 0) await redis.eval(ADD_ALL, [key], args);
    },
    async read() {
      const all = (await redis.hgetall<Record<string, unknown>>(key)) ?? {};
      const totals = new Map<string, number>();
      for (const [series, value] of Object.entries(all)) {
        const n = Number(value);
        if (Number.isFinite(n)) totals.set(series, n);
      }
      return totals;
    },
  };
}
