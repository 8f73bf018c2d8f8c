import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { HonoEnv } from "../app";
import { parseConfig } from "../env";
import { newLogger } from "../lib/logger";
import { noopTelemetry } from "../lib/telemetry";
import { telemetryFor } from "../observability/telemetry";
import { annotateRequestSpan } from "../observability/tracing/spans";

/** Methods that get their own label; anything else is counted as OTHER. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Parses configuration and sets the logger and telemetry, then writes the one access-log
 * line per request (ids, route, status, duration; never bodies) and its request metrics,
 * which reach the shared store after the response.
 */
export function init() {
  return createMiddleware<HonoEnv>(async function initMiddleware(c, next) {
    const started = performance.now();
    const logger = newLogger("info", { requestId: c.get("requestId") });
    c.set("logger", logger);
    c.set("telemetry", noopTelemetry);
    const config = parseConfig(c.env);
    c.set("config", config);
    const requestLogger = newLogger(config.LOG_LEVEL, { requestId: c.get("requestId") });
    c.set("logger", requestLogger);
    const telemetry = telemetryFor(config);
    c.set("telemetry", telemetry);
    await next();
    const durationMs = performance.now() - started;
    const principal = c.get("principal");
    // The route pattern, never the path: ids in paths would make a series per resource. The last
    // matched route, so a request a middleware refused is still named after its handler's route.
    const route = routePath(c, -1);
    requestLogger.info("request", {
      method: c.req.method,
      route,
      status: c.res.status,
      durationMs: Math.round(durationMs * 100) / 100,
      tenantId: principal && "tenantId" in principal ? principal.tenantId : undefined,
      principal: principal ? principal.kind : undefined,
    });
    const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
    annotateRequestSpan({
      method: c.req.method,
      route,
      requestId: c.get("requestId"),
      tenantId: principal && "tenantId" in principal ? principal.tenantId : undefined,
    });
    telemetry.counter("meridian_http_requests_total", 1, { method, route, status: c.res.status });
    telemetry.histogram("meridian_http_request_duration_seconds", durationMs / 1000, { method, route });
    const flushed = telemetry.flush();
    try {
      c.executionCtx.waitUntil(flushed);
    } catch {
      // No ExecutionContext (the app served outside the Workers runtime): the flush just runs.
    }
  });
}
