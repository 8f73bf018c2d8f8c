import { and, asc, eq, isNull } from "drizzle-orm";
import { type ConnectionConfig, connect } from "../../db/client";
import { mcpServers } from "../../db/schema/mcp";
import { withTenant } from "../../db/tenant";
import type { Logger } from "../../workers/lib/logger";
import { connectRemote, type McpTransport, type RemoteConnection, type RemoteContext } from "./connect";
import { type RemoteFailureReason, RemoteMcpError } from "./errors";
import { type HealthStatus, saveHealth } from "./registry";
import type { McpRegistryRow, McpServerRow } from "./types";

/**
 * Per-request timeout of a health check: shorter than a tool call's, because a server that takes
 * longer to answer `ping` is not one to send work to.
 * @default 10 s
 */
export const HEALTH_TIMEOUT_MS = 10_000;

/** A `ping` slower than this makes a reachable server `degraded`. @default 2 s */
export const DEGRADED_LATENCY_MS = 2_000;

/**
 * How long a server found `unreachable` is skipped by tool calls (`server_unhealthy`) without
 * being tried. After that, calls try it again even if nothing has re-checked it, so a server
 * that recovers is never locked out by a stale verdict.
 * @default 5 minutes
 */
export const UNHEALTHY_HOLD_MS = 5 * 60_000;

/** Servers one tenant's sweep checks, oldest first; the rest wait for the next sweep. */
export const MAX_SERVERS_PER_SWEEP = 100;

export interface HealthResult {
  status: Exclude<HealthStatus, "unknown">;
  /** The `ping` round trip; null when the server was not reached or ping failed. */
  latencyMs: number | null;
  error: string | null;
  reason: RemoteFailureReason | null;
  /** The transport that answered, when one did. */
  transport: McpTransport | null;
  checkedAt: Date;
}

/**
 * Checks one server: `initialize`, then MCP `ping`, timed. `healthy` when the ping answers within
 * {@link DEGRADED_LATENCY_MS}; `degraded` when it is slower or fails after a good initialize;
 * `unreachable` when no session could be opened (network, timeout, refused credential or URL,
 * missing secret, an answer that is not MCP). Never throws for the server's failures.
 *
 * @throws Error only for the database (reading the credential).
 * @example
 * const health = await probeRemote({ db, config }, server);
 * await saveHealth(db, server.id, health);
 */
export async function probeRemote(
  ctx: RemoteContext,
  server: Pick<McpServerRow, "url" | "transport" | "authSecretName">,
  opts: { timeoutMs?: number } = {},
): Promise<HealthResult> {
  const checkedAt = new Date();
  let conn: RemoteConnection;
  try {
    conn = await connectRemote(ctx, server, { timeoutMs: opts.timeoutMs ?? HEALTH_TIMEOUT_MS });
  } catch (error) {
    if (!(error instanceof RemoteMcpError)) throw error;
    return {
      status: "unreachable",
      latencyMs: null,
      error: error.message,
      reason: error.reason,
      transport: null,
      checkedAt,
    };
  }
  try {
    const latencyMs = await conn.ping();
    return {
      status: latencyMs > DEGRADED_LATENCY_MS ? "degraded" : "healthy",
      latencyMs,
      error: latencyMs > DEGRADED_LATENCY_MS ? `ping took ${latencyMs} ms` : null,
      reason: null,
      transport: conn.transport,
      checkedAt,
    };
  } catch (error) {
    if (!(error instanceof RemoteMcpError)) throw error;
    return {
      status: "degraded",
      latencyMs: null,
      error: `initialize succeeded but ping failed: ${error.message}`,
      reason: error.reason,
      transport: conn.transport,
      checkedAt,
    };
  } finally {
    await conn.close();
  }
}

/** Whether tool calls should skip the server: found unreachable within {@link UNHEALTHY_HOLD_MS}. */
export function isHeldUnhealthy(row: McpRegistryRow | null, now = Date.now()): boolean {
  return (
    row?.healthStatus === "unreachable" &&
    row.lastHealthAt !== null &&
    now - row.lastHealthAt.getTime() < UNHEALTHY_HOLD_MS
  );
}

export interface SweepSummary {
  checked: number;
  healthy: number;
  degraded: number;
  unreachable: number;
}

/**
 * Checks every active server of one tenant and records each outcome: the body of the scheduled
 * health check, one run per tenant. Servers are checked one after another on one connection,
 * each in a short tenant transaction of its own (credential read, probe, registry write), so a
 * slow server delays the sweep but never holds more than its own transaction.
 *
 * @throws Error when the database is unreachable (the job is retried).
 * @example
 * await checkTenantServers(config, message.tenantId, { logger });
 */
export async function checkTenantServers(
  config: ConnectionConfig & RemoteContext["config"],
  tenantId: string,
  opts: { logger?: Logger; timeoutMs?: number } = {},
): Promise<SweepSummary> {
  const summary: SweepSummary = { checked: 0, healthy: 0, degraded: 0, unreachable: 0 };
  const client = await connect(config);
  try {
    const servers = await withTenant(
      client,
      tenantId,
      (db) =>
        db
          .select()
          .from(mcpServers)
          .where(
            and(
              eq(mcpServers.tenantId, tenantId),
              isNull(mcpServers.deletedAt),
              eq(mcpServers.status, "active"),
            ),
          )
          .orderBy(asc(mcpServers.id))
          .limit(MAX_SERVERS_PER_SWEEP),
      { readOnly: true },
    );
    for (const server of servers) {
      const health = await withTenant(client, tenantId, async (db) => {
        const result = await probeRemote({ db, config }, server, { timeoutMs: opts.timeoutMs });
        await saveHealth(db, server.id, result);
        return result;
      });
      summary.checked++;
      summary[health.status]++;
      if (health.status !== "healthy") {
        opts.logger?.info("remote MCP server not healthy", {
          tenantId,
          serverId: server.id,
          status: health.status,
          reason: health.reason,
        });
      }
    }
    return summary;
  } finally {
    await client.end().catch(() => undefined);
  }
}
