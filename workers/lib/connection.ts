import type { Client } from "@neondatabase/serverless";
import { connect } from "../../db/client";
import type { Context } from "../app";
import { ApiError } from "./errors";
import { isDatabaseUnreachable } from "./pg-errors";

/** Seconds a client is asked to wait when the database cannot be reached. */
const UNREACHABLE_RETRY_SECONDS = 2;

/**
 * Keyed by the request's ExecutionContext, which no middleware replaces (the body limit swaps
 * `c.req.raw` for a buffered copy; a Request key then left the connection unreleased).
 */
const connections = new WeakMap<object, Promise<Client>>();

/**
 * The request's one PostgreSQL connection, opened on first use and closed after the
 * response through `waitUntil`. Only middleware (auth, tenant db) and health checks call
 * this; routes get the tenant-scoped `c.var.db` instead.
 *
 * @throws ApiError UNAVAILABLE (503, Retry-After) when the database cannot be reached: the
 *   request did nothing yet, so the client may retry it as is. PostgreSQL's own refusal (an
 *   unknown database, a wrong password) is rethrown: a misconfiguration, answered 500 and reported.
 */
export function requestConnection(c: Context): Promise<Client> {
  const key = c.executionCtx;
  let pending = connections.get(key);
  if (!pending) {
    pending = connect(c.get("config")).catch((error: unknown) => {
      if (!isDatabaseUnreachable(error)) throw error;
      throw new ApiError("UNAVAILABLE", {
        detail: "The database cannot be reached right now; retry shortly.",
        headers: { "Retry-After": String(UNREACHABLE_RETRY_SECONDS) },
        cause: error,
      });
    });
    connections.set(key, pending);
  }
  return pending;
}

/** Ends the connection the request behind `ctx` opened, if any. */
export async function releaseConnection(ctx: object): Promise<void> {
  const pending = connections.get(ctx);
  if (!pending) return;
  connections.delete(ctx);
  const client = await pending.catch(() => undefined);
  await client?.end().catch(() => undefined);
}
