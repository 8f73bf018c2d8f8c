import { and, eq, sql } from "drizzle-orm";
import { type MCP_HEALTH_STATUSES, mcpServerRegistry } from "../../db/schema/mcp";
import type { TenantDb } from "../../db/tenant";
import type { McpRegistryRow } from "./types";

export type HealthStatus = (typeof MCP_HEALTH_STATUSES)[number];

/**
 * The registry row of `serverId` (what discovery and health checks last learned), or null
 * before the first of either.
 *
 * @example
 * const fresh = cachedDiscovery(await readRegistry(db, server.id));
 */
export async function readRegistry(db: TenantDb, serverId: string): Promise<McpRegistryRow | null> {
  const [row] = await db
    .select()
    .from(mcpServerRegistry)
    .where(and(eq(mcpServerRegistry.tenantId, db.tenantId), eq(mcpServerRegistry.serverId, serverId)));
  return row ?? null;
}

/** Upserts the registry row of `serverId` (one per server) with `set`. */
async function upsert(
  db: TenantDb,
  serverId: string,
  set: Partial<Omit<McpRegistryRow, "id" | "tenantId" | "serverId" | "createdAt" | "updatedAt">>,
): Promise<void> {
  await db
    .insert(mcpServerRegistry)
    .values({ tenantId: db.tenantId, serverId, ...set })
    .onConflictDoUpdate({
      target: [mcpServerRegistry.tenantId, mcpServerRegistry.serverId],
      set: { ...set, updatedAt: sql`now()` },
    });
}

/**
 * Stores a discovery: the tool list, the server's self-description and when it was taken.
 *
 * @example
 * await saveDiscovery(db, server.id, toRegistryColumns(await discoverRemote(ctx, server)));
 */
export async function saveDiscovery(
  db: TenantDb,
  serverId: string,
  discovery: Pick<McpRegistryRow, "tools" | "serverInfo" | "discoveredAt">,
): Promise<void> {
  await upsert(db, serverId, discovery);
}

/**
 * Stores a health check's outcome.
 *
 * @example
 * await saveHealth(db, server.id, await probeRemote(ctx, server));
 */
export async function saveHealth(
  db: TenantDb,
  serverId: string,
  health: { status: HealthStatus; latencyMs: number | null; error: string | null; checkedAt: Date },
): Promise<void> {
  await upsert(db, serverId, {
    healthStatus: health.status,
    latencyMs: health.latencyMs,
    lastError: health.error,
    lastHealthAt: health.checkedAt,
  });
}
