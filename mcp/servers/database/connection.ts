import { Client } from "@neondatabase/serverless";
import { throughLocalRelay } from "../../../db/client";
import type { Config } from "../../../workers/env";
import { ApiError } from "../../../workers/lib/errors";
import { checkOutboundUrl, type OutboundPolicy } from "../../../workers/lib/outbound-fetch";
import { getSecretValue } from "../../../workers/lib/secrets";
import { type McpToolContext, ToolError } from "../../server/types";
import { LIMITS } from "./limits";

/** The database a call runs against. */
export interface DatabaseTarget {
  /** Connection string for the driver: the operator's sample URL, or a tenant's URL rebuilt from its checked parts. */
  url: string;
  /** What results name as their source: `"sample"` or the tenant secret's name. */
  connection: string;
}

/**
 * The database a call names: the sample database when `connection` is undefined, else the
 * `postgres://` URL in the tenant secret of that name, checked by {@link checkDatabaseUrl}.
 *
 * @throws {ToolError} `not_configured` when no sample database is configured, `unknown_connection`
 *   when the tenant has no such secret, `connection_refused` when its URL is refused.
 * @example
 * const target = await resolveTarget(input.connection, ctx);
 */
export async function resolveTarget(
  connection: string | undefined,
  ctx: Pick<McpToolContext, "db" | "config">,
): Promise<DatabaseTarget> {
  if (connection === undefined) {
    const url = ctx.config.SAMPLE_DATABASE_URL;
    if (!url) {
      throw new ToolError(
        "No sample database is configured on this deployment (SAMPLE_DATABASE_URL). Name a connection: a tenant secret holding a postgres:// URL.",
        "not_configured",
      );
    }
    return { url, connection: "sample" };
  }
  const value = await getSecretValue(ctx.db, ctx.config, connection);
  if (value === null) {
    throw new ToolError(
      `The tenant has no secret named ${connection}; store the database's postgres:// URL under that name first.`,
      "unknown_connection",
    );
  }
  return { url: checkDatabaseUrl(value, databasePolicy(ctx.config)), connection };
}

/**
 * The outbound rule for tenant database URLs, as for webhooks: private and loopback hosts only
 * with `OUTBOUND_ALLOW_PRIVATE=true`, which production ignores.
 */
export function databasePolicy(
  config: Pick<Config, "ENVIRONMENT" | "OUTBOUND_ALLOW_PRIVATE">,
): OutboundPolicy {
  return { allowPrivate: config.OUTBOUND_ALLOW_PRIVATE && config.ENVIRONMENT !== "production" };
}

/**
 * Checks a tenant's `postgres://` (or `postgresql://`) URL and rebuilds it from the parts that
 * were checked: user, password, host, port and database. Query parameters are dropped: the driver
 * would honour `?host=` over the checked host, and `?options=`, `?sslrootcert=` and the like are
 * not a tenant's to set here. The host goes through the outbound guard (`checkOutboundUrl`), parsed
 * the way the driver parses it (as an `http:` URL), so both see the same host.
 *
 * Never echoes the URL: it carries a password.
 *
 * @throws {ToolError} `connection_refused` naming the rule that refused it.
 * @example
 * checkDatabaseUrl("postgres://app:pw@ep-x.eu-central-1.aws.neon.tech/shop", {});
 * // "postgres://app:pw@ep-x.eu-central-1.aws.neon.tech/shop"
 */
export function checkDatabaseUrl(raw: string, policy: OutboundPolicy): string {
  const value = raw.trim();
  const scheme = /^postgres(?:ql)?:\/\//i.exec(value);
  if (!scheme) {
    throw new ToolError("The connection secret is not a postgres:// URL.", "connection_refused");
  }
  let url: URL;
  try {
    url = new URL(`http://${value.slice(scheme[0].length)}`);
  } catch {
    throw new ToolError("The connection secret is not a valid postgres:// URL.", "connection_refused");
  }
  if (url.username === "") {
    throw new ToolError("The connection URL names no user.", "connection_refused");
  }
  try {
    checkOutboundUrl(`http://${url.host}/`, policy);
  } catch (error) {
    if (error instanceof ApiError) throw new ToolError(error.message, "connection_refused");
    throw error;
  }
  const auth = url.password === "" ? url.username : `${url.username}:${url.password}`;
  return `postgres://${auth}@${url.host}${url.pathname}`;
}

/**
 * Opens one connection over the Neon serverless driver, with the relay settings of
 * db/client.ts `connect` when `NEON_WS_PROXY` is set (local PostgreSQL), plus a connect timeout
 * and the call's abort signal, which `connect` has no way to take.
 *
 * @throws {ToolError} `connection_failed` with the driver's reason (never the URL), `cancelled`.
 * @example
 * const client = await openClient(target.url, config, signal);
 * try { ... } finally { await closeClient(client); }
 */
export async function openClient(
  url: string,
  config: Pick<Config, "NEON_WS_PROXY">,
  signal: AbortSignal,
): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: LIMITS.connectTimeoutMs });
  throughLocalRelay(client, config.NEON_WS_PROXY);
  // Socket failures also arrive as 'error' events; unheard, they crash the isolate.
  client.on("error", () => undefined);
  if (signal.aborted) throw cancelled();
  const abort = () => dropConnection(client);
  signal.addEventListener("abort", abort, { once: true });
  try {
    await client.connect();
  } catch (error) {
    await closeClient(client);
    if (signal.aborted) throw cancelled();
    throw new ToolError(`Could not connect to the database: ${reasonOf(error)}`, "connection_failed");
  } finally {
    signal.removeEventListener("abort", abort);
  }
  return client;
}

/** Connections closed under the driver by {@link dropConnection}. */
const droppedClients = new WeakSet<Client>();

/** Ends the session; a connection that is already gone (or never answers) is let go after a second. */
export async function closeClient(client: Client): Promise<void> {
  if (!droppedClients.has(client)) {
    // pg's end() waits for an 'end' event, which a socket that died on its own may have sent already.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      client.end().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
  }
  dropConnection(client);
}

/** Closes the socket under the driver at once; the server rolls back whatever was open. */
export function dropConnection(client: Client): void {
  droppedClients.add(client);
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection
    ?.stream;
  try {
    stream?.destroy?.();
  } catch {
    // already closed
  }
}

/** True once {@link dropConnection} closed the client's socket. */
export function wasDropped(client: Client): boolean {
  return droppedClients.has(client);
}

export function cancelled(): ToolError {
  return new ToolError("The call was cancelled.", "cancelled");
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Driver messages name users and databases, never passwords; cut anything long.
  return message.length > 300 ? `${message.slice(0, 300)}...` : message;
}
