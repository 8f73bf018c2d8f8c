import type { Client } from "@neondatabase/serverless";
import { connect } from "../../db/client";
import type { Context } from "../app";

const connections = new WeakMap<Request, Promise<Client>>();

/**
 * The request's one PostgreSQL connection, opened on first use and closed after the
 * response through `waitUntil`. Only middleware (auth, tenant db) and health checks call
 * this; routes get the tenant-scoped `c.var.db` instead.
 */
export function requestConnection(c: Context): Promise<Client> {
  const key = c.req.raw;
  let pending = connections.get(key);
  if (!pending) {
    pending = connect(c.get("config"));
    connections.set(key, pending);
  }
  return pending;
}

/** Ends the request's connection, if one was opened. */
export async function releaseConnection(request: Request): Promise<void> {
  const pending = connections.get(request);
  if (!pending) return;
  connections.delete(request);
  const client = await pending.catch(() => undefined);
  await client?.end().catch(() => undefined);
}
