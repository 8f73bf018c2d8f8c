/**
 * The compose stack's `upstash-relay` service: the Upstash REST relay `npm run dev` starts, in
 * front of the stack's Redis. Ours rather than a public REST proxy because it also rewrites the
 * scripts `@upstash/ratelimit` sends, which Redis 7.0 would refuse (see upstash-relay.ts).
 */
import { startUpstashRelay } from "../../scripts/local-stack/upstash-relay.ts";

const token = process.env.UPSTASH_TOKEN;
if (!token) throw new Error("UPSTASH_TOKEN is required: the bearer token clients must send");

const relay = await startUpstashRelay({
  redisUrl: process.env.REDIS_URL ?? "redis://redis:6379",
  token,
  host: "0.0.0.0",
  port: Number(process.env.PORT ?? 8079),
});
console.log(`Upstash relay listening on ${relay.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void relay.close().then(() => process.exit(0)));
}
