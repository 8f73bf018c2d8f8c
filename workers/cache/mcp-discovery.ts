import type { DiscoveredTool } from "../../db/schema/mcp";
import type { TenantDb } from "../../db/tenant";
import { cachedDiscovery, DISCOVERY_TTL_MS, type Discovery } from "../../mcp/client/discover";
import type { McpServerRow } from "../../mcp/client/types";
import type { Context } from "../app";
import { loadMcpServer } from "../routes/mcp-servers/load";
import { type CacheDeps, invalidate, readThrough } from "./cache";
import type { CacheScope } from "./keys";
import { cacheDeps, invalidateAfterCommit } from "./request";
import { reviveRow } from "./rows";

/*
 * One generation for all of a tenant's remote MCP servers: the run-time tool list spans every
 * server, and a tenant's servers change rarely (registration, an edit, a discovery at most every
 * ten minutes), so retiring all their entries on any of those costs little and cannot miss one.
 */

/** A tenant's MCP discovery cache. */
export function mcpDiscoveryScope(tenantId: string): CacheScope {
  return { cache: "mcp_discovery", tenantId };
}

/** A live server and, while it is fresh (DISCOVERY_TTL_MS), its last discovery. */
export interface ServerDiscovery {
  server: McpServerRow;
  discovery: Discovery | null;
}

/** What a run offers the model from a remote server: its name, status and discovered tools. */
export interface RemoteToolRow {
  name: string;
  status: McpServerRow["status"];
  tools: DiscoveredTool[] | null;
}

const SERVER_DATES = ["createdAt", "updatedAt", "deletedAt"] as const;

/**
 * A live server of the caller's tenant with its fresh discovery, through the cache: what
 * `GET /v1/mcp/servers/{id}/discover` serves without calling the server. An entry lives as long as
 * the discovery stays fresh, so the cache never serves one the registry would call stale. Only
 * servers with a fresh discovery are stored; the route discovers the others and invalidates.
 *
 * @throws ApiError NOT_FOUND
 */
export function cachedServerDiscovery(
  deps: CacheDeps,
  db: TenantDb,
  serverId: string,
): Promise<ServerDiscovery> {
  return readThrough<ServerDiscovery>(
    deps,
    {
      scope: mcpDiscoveryScope(db.tenantId),
      variant: `server:${serverId}`,
      ttlSeconds: ({ discovery }) =>
        discovery ? (discovery.discoveredAt.getTime() + DISCOVERY_TTL_MS - Date.now()) / 1000 : 0,
      decode: (stored) => decodeServerDiscovery(stored, db.tenantId, serverId),
      db,
    },
    async () => {
      const { server, registry } = await loadMcpServer(db, serverId);
      return { server, discovery: cachedDiscovery(registry) };
    },
  );
}

function decodeServerDiscovery(stored: unknown, tenantId: string, serverId: string): ServerDiscovery | null {
  if (!stored || typeof stored !== "object") return null;
  const { server: rawServer, discovery: rawDiscovery } = stored as { server?: unknown; discovery?: unknown };
  const server = reviveRow<McpServerRow>(rawServer, tenantId, SERVER_DATES);
  if (!server || server.id !== serverId.toLowerCase() || server.deletedAt !== null) return null;
  if (!rawDiscovery || typeof rawDiscovery !== "object") return null;
  const discovery = rawDiscovery as Discovery & { discoveredAt: unknown };
  const discoveredAt = new Date(String(discovery.discoveredAt));
  // Past its freshness the registry would ask the server again: so must the route.
  if (Number.isNaN(discoveredAt.getTime()) || Date.now() - discoveredAt.getTime() >= DISCOVERY_TTL_MS)
    return null;
  return { server, discovery: { ...discovery, discoveredAt } };
}

/**
 * The tenant's live remote servers with their discovered tools, through the cache: what an agent
 * run reads before its first model call to offer remote MCP tools. A hit spares the run a tenant
 * transaction; `load` (the query in such a transaction) answers a miss. `tenantId` is the run's,
 * from its stored spec.
 *
 * @example
 * const rows = await cachedRemoteToolRows(deps, spec.tenantId, () => host.inTenant(selectRows));
 */
export function cachedRemoteToolRows(
  deps: CacheDeps,
  tenantId: string,
  load: () => Promise<RemoteToolRow[]>,
): Promise<RemoteToolRow[]> {
  return readThrough<RemoteToolRow[]>(
    deps,
    {
      scope: mcpDiscoveryScope(tenantId),
      variant: "tools",
      ttlSeconds: DISCOVERY_TTL_MS / 1000,
      decode: (stored) =>
        Array.isArray(stored) &&
        stored.every((row) => row && typeof row.name === "string" && typeof row.status === "string")
          ? (stored as RemoteToolRow[])
          : null,
    },
    load,
  );
}

/** For every route that writes a remote server (create, update, delete): retired once the request commits. */
export function invalidateMcpDiscoveryAfterCommit(c: Context): void {
  invalidateAfterCommit(c, mcpDiscoveryScope(c.get("db").tenantId));
}

/**
 * For a discovery stored in a transaction of its own (already committed): retired now.
 *
 * @example
 * await inOwnTransaction(c, (db) => saveDiscovery(db, server.id, columns));
 * await invalidateMcpDiscovery(c);
 */
export function invalidateMcpDiscovery(c: Context): Promise<void> {
  return invalidate(cacheDeps(c), mcpDiscoveryScope(c.get("db").tenantId));
}
