import { and, eq, isNull, ne, sql } from "drizzle-orm";
import { mcpServerRegistry, mcpServers } from "../../../db/schema/mcp";
import type { TenantDb } from "../../../db/tenant";
import type { McpRegistryRow, McpServerRow } from "../../../mcp/client/types";
import { BUILTIN_MCP_SERVERS } from "../../../mcp/servers";
import { ApiError } from "../../lib/errors";

/**
 * A live server of the caller's tenant with its registry row. RLS hides other tenants' rows, so
 * a foreign id is simply absent: 404, the same as an id that never existed.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadMcpServer(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<{ server: McpServerRow; registry: McpRegistryRow | null }> {
  const query = db
    .select({ server: mcpServers, registry: mcpServerRegistry })
    .from(mcpServers)
    .leftJoin(
      mcpServerRegistry,
      and(eq(mcpServerRegistry.tenantId, mcpServers.tenantId), eq(mcpServerRegistry.serverId, mcpServers.id)),
    )
    .where(and(eq(mcpServers.tenantId, db.tenantId), eq(mcpServers.id, id), isNull(mcpServers.deletedAt)));
  const [row] = opts.forUpdate ? await query.for("update", { of: mcpServers }) : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `MCP server ${id} not found.` });
  return row;
}

/**
 * Refuses a name that a built-in server has, or that another live server of the tenant has. A
 * transaction-scoped advisory lock on (tenant, name) makes two concurrent registrations of one
 * name queue up, so the check and the insert that follows cannot interleave: the schema has no
 * unique index on live names (a soft-deleted server keeps its name).
 *
 * @throws ApiError UNPROCESSABLE (built-in name), CONFLICT (taken)
 */
export async function claimServerName(db: TenantDb, name: string, exceptId?: string): Promise<void> {
  if (BUILTIN_MCP_SERVERS.has(name)) {
    throw new ApiError("UNPROCESSABLE", { detail: `"${name}" is the name of a built-in MCP server.` });
  }
  await db.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`mcp-server-name:${db.tenantId}:${name}`}, 0))`,
  );
  const filters = [
    eq(mcpServers.tenantId, db.tenantId),
    eq(mcpServers.name, name),
    isNull(mcpServers.deletedAt),
  ];
  if (exceptId) filters.push(ne(mcpServers.id, exceptId));
  const [taken] = await db
    .select({ id: mcpServers.id })
    .from(mcpServers)
    .where(and(...filters))
    .limit(1);
  if (taken) throw new ApiError("CONFLICT", { detail: `An MCP server named "${name}" already exists.` });
}
