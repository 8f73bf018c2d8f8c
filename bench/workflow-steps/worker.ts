/**
 * The benchmark's Worker: Meridian's own, plus one diagnostic route that spins the CPU with no
 * I/O and answers how far `Date.now()` and `performance.now()` moved meanwhile. Deployed
 * Workers only move their clock at I/O, so a step's timestamps there can read 0 ms apart; the
 * bench needs to know whether the clock it reads the engine's timestamps from does the same.
 */
import type { Env } from "../../workers/env";
import worker from "../../workers/index";

export { AgentRun, WorkflowExecution } from "../../workers/index";

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/clock" && request.method === "GET") {
      const spins = Number(url.searchParams.get("spins") ?? 20_000_000);
      const date = Date.now();
      const perf = performance.now();
      let x = 0;
      for (let i = 0; i < spins; i++) x = (x * 31 + i) | 0;
      return Response.json({ dateMs: Date.now() - date, perfMs: performance.now() - perf, x });
    }
    return worker.fetch(request, env, ctx);
  },
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<Env, unknown>;
