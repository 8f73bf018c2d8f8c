import { Client } from "@neondatabase/serverless";
import { traceQueries } from "../workers/observability/tracing/db";

export interface ConnectionConfig {
  DATABASE_URL: string;
  /** host:port of a local Neon-protocol WebSocket relay; unset in production. */
  NEON_WS_PROXY?: string | undefined;
}

/**
 * Opens one PostgreSQL connection over the Neon serverless driver (WebSocket). A Worker
 * cannot reuse sockets across requests, so each request opens its own and must `end()` it
 * (the Worker entry hands that to `waitUntil`).
 *
 * @throws the driver's connection error when PostgreSQL is unreachable.
 * @example
 * const client = await connect(config);
 * try { await client.query("select 1"); } finally { await client.end(); }
 */
export async function connect(config: ConnectionConfig): Promise<Client> {
  const client = new Client(config.DATABASE_URL);
  if (IN_WORKERD) client.neonConfig.webSocketConstructor = OpenThroughFetch as unknown as typeof WebSocket;
  throughLocalRelay(client, config.NEON_WS_PROXY);
  // The driver also emits socket failures as 'error' events; unheard, those crash the isolate.
  // A failure during a query still rejects that query, so the event itself can be dropped.
  client.on("error", () => undefined);
  traceQueries(client);
  await client.connect();
  return client;
}

/** Inside the Workers runtime; Node scripts (benches, checks) bring their own WebSocket. */
const IN_WORKERD =
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";

/**
 * Makes the driver open its WebSocket with `fetch(url, { headers: { Upgrade: "websocket" } })`,
 * its fallback when the constructor throws. workerd's `new WebSocket(url)` reports a refused
 * connection as an unhandled rejection ("Network connection lost") that fails the whole
 * invocation; through fetch the refusal rejects the connect, which the API answers with a 503.
 */
class OpenThroughFetch {
  constructor() {
    throw new Error("open the database socket through fetch");
  }
}

/**
 * Points a client at the local Neon-protocol relay when one is configured: plain PostgreSQL
 * behind it, so no TLS inside the socket and no pipelined startup (that shortcut assumes
 * Neon's proxy and its password-only auth). Without a relay the client talks to Neon as is.
 */
export function throughLocalRelay(client: Client, relay: string | undefined): void {
  if (!relay) return;
  const neon = client.neonConfig;
  neon.wsProxy = (host, port) => `${relay}/v2?address=${host}:${port}`;
  neon.useSecureWebSocket = false;
  neon.pipelineTLS = false;
  neon.pipelineConnect = false;
  neon.forceDisablePgSSL = true;
}
