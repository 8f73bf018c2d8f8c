import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context as HonoContext } from "hono";
import { HTTPException } from "hono/http-exception";
import type { TenantDb } from "../db/tenant";
import type { Principal } from "./auth/principal";
import type { Config } from "./env";
import { ApiError } from "./lib/errors";
import type { Logger } from "./lib/logger";
import { isDatabaseBusy, isUnstorableValue } from "./lib/pg-errors";
import { problemResponse } from "./lib/problem";
import type { Telemetry } from "./lib/telemetry";
import { reportRequestError } from "./observability/errors/http";

/** What a client is told to wait when PostgreSQL has no room for its request. */
const DATABASE_BUSY_RETRY_SECONDS = 2;

export interface HonoEnv {
  Bindings: Cloudflare.Env;
  Variables: {
    requestId: string;
    config: Config;
    logger: Logger;
    telemetry: Telemetry;
    /** Set by the auth middleware on authenticated routes. */
    principal: Principal;
    /** Tenant-scoped database access; the only database handle a route ever sees. */
    db: TenantDb;
    /** Tasks `afterCommit` queued for after the tenant transaction commits. */
    afterCommit: import("./middleware/tenant-db").AfterCommit[];
  };
}

export type App = OpenAPIHono<HonoEnv>;
export type Context = HonoContext<HonoEnv>;

/**
 * A new app with the one error model wired in: schema failures and thrown ApiErrors
 * become problem+json; anything else is logged with its stack and becomes a bare 500.
 */
export function newApp(): App {
  const app = new OpenAPIHono<HonoEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError("VALIDATION_FAILED", {
          detail: "The request has invalid fields; see errors.",
          errors: result.error.issues.map((issue) => ({
            path: issue.path.map(String).join(".") || "(root)",
            message: issue.message,
          })),
        });
      }
    },
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.limit)
        c.get("telemetry")?.counter("meridian_rate_limit_rejections_total", 1, {
          limit: err.limit ?? "other",
        });
      return problemResponse(c, err);
    }
    if (err instanceof HTTPException) {
      // hono's own exceptions: malformed JSON from the validator, 401s from its auth helpers.
      const status = err.status;
      const code =
        status === 400
          ? "MALFORMED_JSON"
          : status === 401
            ? "UNAUTHENTICATED"
            : status === 413
              ? "PAYLOAD_TOO_LARGE"
              : status === 415
                ? "UNSUPPORTED_MEDIA_TYPE"
                : null;
      if (code) return problemResponse(c, new ApiError(code, { detail: err.message }));
    }
    if (isUnstorableValue(err)) {
      // PostgreSQL refused a value the schema let through (a NUL character, JSON nested too
      // deep): the client's input, so a 400, never a 500.
      return problemResponse(
        c,
        new ApiError("VALIDATION_FAILED", {
          detail:
            "A value in the request cannot be stored (for example a NUL character or JSON nested too deeply).",
        }),
      );
    }
    if (isDatabaseBusy(err)) {
      c.get("logger")?.warn("database busy", { error: err instanceof Error ? err.message : String(err) });
      return problemResponse(
        c,
        new ApiError("UNAVAILABLE", {
          detail: "The database cannot take more work right now; retry shortly.",
          headers: { "Retry-After": String(DATABASE_BUSY_RETRY_SECONDS) },
        }),
      );
    }
    c.get("logger")?.error("unhandled error", {
      error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
    });
    reportRequestError(c, err);
    return problemResponse(c, new ApiError("INTERNAL", { detail: "An unexpected error occurred." }));
  });

  app.notFound((c) =>
    problemResponse(c, new ApiError("NOT_FOUND", { detail: "No route matches this path." })),
  );
  return app;
}
