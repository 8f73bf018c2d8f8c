/**
 * The compose stack's `neon-relay` service: the same Neon wsproxy relay `npm run dev` starts,
 * listening on all of the container's interfaces so `wrangler dev` on the host reaches it.
 * Run by Node's own TypeScript support (no tsx in the container), so imports name `.ts` files.
 */
import { startNeonWsRelay } from "../../scripts/local-stack/neon-ws-relay.ts";

const relay = await startNeonWsRelay({
  host: "0.0.0.0",
  port: Number(process.env.PORT ?? 5433),
  // The PostgreSQL the Worker's DATABASE_URL names, as the relay's network sees it.
  allowedTargets: (process.env.ALLOWED_TARGETS ?? "postgres:5432").split(",").map((t) => t.trim()),
});
console.log(`Neon relay listening on ${relay.address}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void relay.close().then(() => process.exit(0)));
}
