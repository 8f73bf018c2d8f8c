import type { Config } from "../env";
import { redisFor } from "../lib/redis";
import type { Telemetry } from "../lib/telemetry";
import { MetricsRecorder } from "./metrics/recorder";
import { metricsKey, redisMetricsStore } from "./metrics/store";
import { otelSpans } from "./tracing/spans";

const recorders = new Map<string, MetricsRecorder>();
/** Spans of the request's trace; no-ops where no trace is active (tracing off, or outside a request). */
const spans = otelSpans();

/**
 * The isolate's metrics recorder for this deployment's Redis. One per isolate, shared by every
 * request, Durable Object call and queue batch the isolate serves: whoever flushes sends all.
 */
export function metricsFor(
  config: Pick<Config, "UPSTASH_REDIS_REST_URL" | "UPSTASH_REDIS_REST_TOKEN" | "METRICS_NAMESPACE">,
): MetricsRecorder {
  const key = `${config.UPSTASH_REDIS_REST_URL}|${config.UPSTASH_REDIS_REST_TOKEN}|${config.METRICS_NAMESPACE}`;
  let recorder = recorders.get(key);
  if (!recorder) {
    recorder = new MetricsRecorder(redisMetricsStore(redisFor(config), metricsKey(config.METRICS_NAMESPACE)));
    recorders.set(key, recorder);
  }
  return recorder;
}

/**
 * Telemetry for code that has the configuration: metrics into the isolate's recorder. Requests
 * flush after the response (`waitUntil`), queue batches when they end, Durable Objects when a
 * run or a workflow step ends. A failed flush keeps the figures for the next one.
 *
 * @example
 * telemetryFor(config).counter("meridian_tool_calls_total", 1, { type: "mcp", outcome: "ok" });
 */
export function telemetryFor(config: Config): Telemetry {
  const metrics = metricsFor(config);
  return {
    counter: (name, value, labels) => metrics.count(name, value, labels),
    histogram: (name, value, labels) => metrics.observe(name, value, labels),
    startSpan: spans.startSpan,
    flush: () => metrics.flush().catch(() => undefined),
  };
}
