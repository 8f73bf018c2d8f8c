import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../app";
import { parseConfig } from "../env";
import { newLogger } from "../lib/logger";
import { noopTelemetry } from "../lib/telemetry";

/**
 * Parses configuration and sets the logger and telemetry, then writes the one access-log
 * line per request (ids, route, status, duration; never bodies).
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
    await next();
    const principal = c.get("principal");
    requestLogger.info("request", {
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      tenantId: principal && "tenantId" in principal ? principal.tenantId : undefined,
      principal: principal ? principal.kind : undefined,
    });
  });
}
