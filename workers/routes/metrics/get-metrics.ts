import { createRoute, z } from "@hono/zod-openapi";
import type { App, Context } from "../../app";
import { timingSafeEqualText } from "../../lib/bytes";
import { requestConnection } from "../../lib/connection";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { redisFor } from "../../lib/redis";
import {
  type GaugeReading,
  type KnownGaugeLabels,
  renderExposition,
} from "../../observability/metrics/exposition";
import { KNOWN_GAUGE_LABELS, readGauges } from "../../observability/metrics/gauges";
import { metricsKey, redisMetricsStore } from "../../observability/metrics/store";

const route = createRoute({
  operationId: "getMetrics",
  tags: ["health"],
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics, summed over every isolate (docs/observability.md lists them)",
  description:
    "Counters and histograms from the shared store, gauges read from PostgreSQL now. Needs `Authorization: Bearer <METRICS_TOKEN>` when the deployment sets one; in production without one it is off (404).",
  responses: {
    200: {
      description: "The Prometheus text format, version 0.0.4.",
      content: { "text/plain": { schema: z.string() } },
    },
    ...problemResponses(401, 404, 500),
  },
});

const NO_GAUGES: KnownGaugeLabels = {
  meridian_documents: [],
  meridian_workflow_executions: [],
  meridian_mcp_servers: [],
};

export function registerGetMetrics(app: App) {
  app.openapi(route, async (c: Context) => {
    await authorizeScrape(c);
    const config = c.get("config");
    const [totals, gauges] = await Promise.all([
      redisMetricsStore(redisFor(config), metricsKey(config.METRICS_NAMESPACE)).read(),
      requestConnection(c)
        .then(readGauges)
        .catch((error: unknown): GaugeReading[] | null => {
          // The counters are still worth scraping; the gauges go missing (not 0) until it is back.
          c.get("logger").warn("metrics gauges unavailable", {
            error: error instanceof Error ? error.message : String(error),
          });
          return null;
        }),
    ]);
    const text = renderExposition(totals, gauges ?? [], gauges ? KNOWN_GAUGE_LABELS : NO_GAUGES);
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
}

/** @throws ApiError NOT_FOUND (production without a token) or UNAUTHENTICATED (wrong token). */
async function authorizeScrape(c: Context): Promise<void> {
  const config = c.get("config");
  if (!config.METRICS_TOKEN) {
    if (config.ENVIRONMENT === "production") {
      throw new ApiError("NOT_FOUND", { detail: "Metrics are off: set METRICS_TOKEN to scrape them." });
    }
    return;
  }
  const presented = c.req.header("authorization")?.match(/^Bearer (\S{1,4096})$/)?.[1] ?? "";
  if (!(await timingSafeEqualText(presented, config.METRICS_TOKEN))) {
    throw new ApiError("UNAUTHENTICATED", { detail: "Send Authorization: Bearer <METRICS_TOKEN>." });
  }
}
