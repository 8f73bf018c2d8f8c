import { createRoute, z } from "@hono/zod-openapi";
import type { App, Context } from "../../app";
import { requestConnection } from "../../lib/connection";
import { problemResponses } from "../../lib/problem-responses";
import { redisFor } from "../../lib/redis";

const dependency = z
  .object({
    ok: z.boolean().openapi({ example: true }),
    latencyMs: z.number().openapi({ description: "Round trip of a trivial command.", example: 1.2 }),
    error: z.string().optional().openapi({ description: "Why the check failed (no secrets)." }),
  })
  .openapi("DependencyHealth");

const readiness = z
  .object({
    status: z.enum(["ready", "degraded"]),
    database: dependency,
    redis: dependency,
  })
  .openapi("Readiness");

export type GetReadinessResponse = z.infer<typeof readiness>;

const route = createRoute({
  operationId: "getReadiness",
  tags: ["health"],
  method: "get",
  path: "/health/ready",
  summary: "Readiness: PostgreSQL and Redis reachable, with latency",
  responses: {
    200: {
      description: "Every dependency answered.",
      content: { "application/json": { schema: readiness } },
    },
    503: {
      description: "At least one dependency failed.",
      content: { "application/json": { schema: readiness } },
    },
    ...problemResponses(500),
  },
});

async function probe(check: () => Promise<unknown>): Promise<z.infer<typeof dependency>> {
  const started = performance.now();
  try {
    await check();
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return {
      ok: false,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      error: error instanceof Error ? error.name : "error",
    };
  }
}

export function registerGetReadiness(app: App) {
  app.openapi(route, async (c: Context) => {
    const config = c.get("config");
    const [database, redis] = await Promise.all([
      probe(async () => (await requestConnection(c)).query("select 1")),
      probe(() => redisFor(config).ping()),
    ]);
    const ok = database.ok && redis.ok;
    return c.json(
      { status: ok ? ("ready" as const) : ("degraded" as const), database, redis },
      ok ? 200 : 503,
    );
  });
}
