import { routePath } from "hono/route";
import type { Context } from "../../app";
import { reportError } from "./report";

/**
 * Reports the unexpected error behind a request's 500 with the request's ids, in the
 * background (`waitUntil`). Safe outside the Workers runtime, where there is nothing to wait on.
 */
export function reportRequestError(c: Context, error: unknown): void {
  const principal = c.get("principal");
  const reported = reportError(c.get("config") ?? c.env, error, {
    source: "http",
    requestId: c.get("requestId"),
    tenantId: principal && "tenantId" in principal ? principal.tenantId : undefined,
    // The endpoint's pattern (the last route matched), even when a middleware threw.
    route: routePath(c, -1),
    method: c.req.method,
  });
  try {
    c.executionCtx.waitUntil(reported);
  } catch {
    // No ExecutionContext (the app served outside the Workers runtime): the report just runs.
  }
}
