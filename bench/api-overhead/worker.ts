/**
 * The benchmark's Worker: Meridian's own app plus one baseline route that reads the same agent
 * row with a raw query through the same driver, relay and per-request connection setup.
 */
import { and, eq } from "drizzle-orm";
import { connect } from "../../db/client";
import { agents } from "../../db/schema";
import { withTenant } from "../../db/tenant";
import { parseConfig } from "../../workers/env";
import worker from "../../workers/index";
import { newLogger } from "../../workers/lib/logger";
import { checkRateLimit } from "../../workers/lib/rate-limit";

export { AgentRun, WorkflowExecution } from "../../workers/index";

interface BenchEnv extends Cloudflare.Env {
  /** Owner-role URL: reads the row without the tenant transaction (the raw baseline). */
  BENCH_RAW_DATABASE_URL: string;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    // Diagnostics: the full stack's two expensive parts on their own, to show where time goes.
    if (url.pathname === "/__bench/redis") {
      const config = parseConfig(env);
      const logger = newLogger("silent");
      await Promise.all([
        checkRateLimit(config, logger, "credential", "bench"),
        checkRateLimit(config, logger, "tenant", "bench"),
      ]);
      return new Response("ok");
    }
    const tx = url.pathname.match(/^\/__bench\/tx\/([0-9a-f-]{36})\/([0-9a-f-]{36})$/);
    if (tx) {
      const client = await connect(parseConfig(env));
      try {
        const row = await withTenant(
          client,
          tx[1] as string,
          async (db) =>
            (
              await db
                .select()
                .from(agents)
                .where(and(eq(agents.tenantId, db.tenantId), eq(agents.id, tx[2] as string)))
            )[0],
          { readOnly: true },
        );
        return Response.json(row ?? null, { status: row ? 200 : 404 });
      } finally {
        ctx.waitUntil(client.end());
      }
    }
    const raw = url.pathname.match(/^\/__bench\/raw\/([0-9a-f-]{36})$/);
    if (!raw) return worker.fetch(request, env, ctx);
    const client = await connect({
      DATABASE_URL: env.BENCH_RAW_DATABASE_URL,
      NEON_WS_PROXY: env.NEON_WS_PROXY,
    });
    try {
      const { rows } = await client.query("select * from agents where id = $1", [raw[1]]);
      return Response.json(rows[0] ?? null, { status: rows[0] ? 200 : 404 });
    } finally {
      ctx.waitUntil(client.end());
    }
  },
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<BenchEnv, unknown>;
