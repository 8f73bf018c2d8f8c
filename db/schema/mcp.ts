import { relations, sql } from "drizzle-orm";
import {
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { id, oneOf, softDelete, tenantKey, tenantPolicies, timestamps } from "./columns";
import { tenantId, tenants } from "./tenants";

export const MCP_TRANSPORTS = ["streamable_http", "sse"] as const;
export const MCP_SERVER_STATUSES = ["active", "disabled"] as const;
export const MCP_HEALTH_STATUSES = ["unknown", "healthy", "degraded", "unreachable"] as const;
export const MCP_EXECUTION_STATUSES = ["pending", "running", "succeeded", "failed"] as const;
export const MCP_TOOL_SOURCES = ["builtin", "remote"] as const;
export const MCP_FILE_KINDS = ["file", "directory"] as const;

/** A tool as the server's `tools/list` described it. */
export interface DiscoveredTool {
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
}

/** A remote MCP server a tenant has connected: what the tenant edits. */
export const mcpServers = pgTable(
  "mcp_servers",
  {
    ...id,
    ...tenantId,
    name: text("name").notNull(),
    description: text("description"),
    url: text("url").notNull(),
    transport: text("transport", { enum: MCP_TRANSPORTS }).notNull().default("streamable_http"),
    /**
     * Name of the `tenant_secrets` row holding the credential, resolved when the server is called.
     * Not a foreign key: deleting or renaming a secret must not be blocked by a soft-deleted server,
     * and a missing secret is reported on the call.
     */
    authSecretName: text("auth_secret_name"),
    status: text("status", { enum: MCP_SERVER_STATUSES }).notNull().default("active"),
    createdBy: uuid("created_by"),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    tenantKey("mcp_servers", t),
    index("mcp_servers_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    // Calls name a server: one live server per name (claimServerName gives the friendly 409).
    uniqueIndex("mcp_servers_tenant_id_name_live_key")
      .on(t.tenantId, t.name)
      .where(sql`${t.deletedAt} is null`),
    oneOf("mcp_servers_transport_check", t.transport, MCP_TRANSPORTS),
    oneOf("mcp_servers_status_check", t.status, MCP_SERVER_STATUSES),
    ...tenantPolicies(),
  ],
);

/** Per-server settings (timeouts, extra headers, tool allow-list), one row per key. */
export const mcpServerConfigs = pgTable(
  "mcp_server_configs",
  {
    ...id,
    ...tenantId,
    serverId: uuid("server_id").notNull(),
    key: text("key").notNull(),
    value: jsonb("value").notNull(),
    ...timestamps,
  },
  (t) => [
    tenantKey("mcp_server_configs", t),
    unique("mcp_server_configs_tenant_id_server_id_key_key").on(t.tenantId, t.serverId, t.key),
    foreignKey({
      name: "mcp_server_configs_server_fk",
      columns: [t.tenantId, t.serverId],
      foreignColumns: [mcpServers.tenantId, mcpServers.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/**
 * What the platform last learned about a server: health and the discovered tool list, one row
 * per server. Kept apart from `mcp_servers` because health probes write it every few minutes,
 * and that churn should not touch the row (and `updated_at`) the tenant edits.
 */
export const mcpServerRegistry = pgTable(
  "mcp_server_registry",
  {
    ...id,
    ...tenantId,
    serverId: uuid("server_id").notNull(),
    healthStatus: text("health_status", { enum: MCP_HEALTH_STATUSES }).notNull().default("unknown"),
    lastHealthAt: timestamp("last_health_at", { withTimezone: true }),
    latencyMs: integer("latency_ms"),
    lastError: text("last_error"),
    /** The `initialize` result: server name, version, protocol version, capabilities. */
    serverInfo: jsonb("server_info").$type<Record<string, unknown>>(),
    tools: jsonb("tools").$type<DiscoveredTool[]>().notNull().default([]),
    discoveredAt: timestamp("discovered_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    tenantKey("mcp_server_registry", t),
    unique("mcp_server_registry_tenant_id_server_id_key").on(t.tenantId, t.serverId),
    oneOf("mcp_server_registry_health_status_check", t.healthStatus, MCP_HEALTH_STATUSES),
    foreignKey({
      name: "mcp_server_registry_server_fk",
      columns: [t.tenantId, t.serverId],
      foreignColumns: [mcpServers.tenantId, mcpServers.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const mcpToolExecutions = pgTable(
  "mcp_tool_executions",
  {
    ...id,
    ...tenantId,
    /** The registered server for a remote tool; null for a built-in server's tool. */
    serverId: uuid("server_id"),
    source: text("source", { enum: MCP_TOOL_SOURCES }).notNull().default("remote"),
    /** The built-in server's name, or the remote server's name when it was called. */
    serverName: text("server_name").notNull().default(""),
    toolName: text("tool_name").notNull(),
    /** The agent run that made the call, when an agent did. */
    runId: uuid("run_id"),
    inputBytes: integer("input_bytes"),
    outputBytes: integer("output_bytes"),
    input: jsonb("input"),
    output: jsonb("output"),
    error: text("error"),
    status: text("status", { enum: MCP_EXECUTION_STATUSES }).notNull().default("pending"),
    durationMs: integer("duration_ms"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    createdBy: uuid("created_by"),
    ...timestamps,
  },
  (t) => [
    tenantKey("mcp_tool_executions", t),
    index("mcp_tool_executions_tenant_id_server_id_id_idx").on(t.tenantId, t.serverId, t.id),
    oneOf("mcp_tool_executions_status_check", t.status, MCP_EXECUTION_STATUSES),
    oneOf("mcp_tool_executions_source_check", t.source, MCP_TOOL_SOURCES),
    index("mcp_tool_executions_tenant_id_server_name_id_idx").on(t.tenantId, t.serverName, t.id),
    foreignKey({
      name: "mcp_tool_executions_server_fk",
      columns: [t.tenantId, t.serverId],
      foreignColumns: [mcpServers.tenantId, mcpServers.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/**
 * The built-in filesystem server's per-tenant store: one row per file or directory, keyed by
 * its normalised absolute path (`/reports/q3.md`). Content is UTF-8 text; sizes are checked
 * against the server's limits before a write.
 */
export const mcpFiles = pgTable(
  "mcp_files",
  {
    ...id,
    ...tenantId,
    path: text("path").notNull(),
    kind: text("kind", { enum: MCP_FILE_KINDS }).notNull(),
    content: text("content"),
    sizeBytes: integer("size_bytes").notNull().default(0),
    ...timestamps,
  },
  (t) => [
    tenantKey("mcp_files", t),
    unique("mcp_files_tenant_id_path_key").on(t.tenantId, t.path),
    oneOf("mcp_files_kind_check", t.kind, MCP_FILE_KINDS),
    ...tenantPolicies(),
  ],
);

export const mcpServersRelations = relations(mcpServers, ({ one, many }) => ({
  tenant: one(tenants, { fields: [mcpServers.tenantId], references: [tenants.id] }),
  configs: many(mcpServerConfigs),
  registry: one(mcpServerRegistry),
  executions: many(mcpToolExecutions),
}));

export const mcpServerConfigsRelations = relations(mcpServerConfigs, ({ one }) => ({
  server: one(mcpServers, { fields: [mcpServerConfigs.serverId], references: [mcpServers.id] }),
}));

export const mcpServerRegistryRelations = relations(mcpServerRegistry, ({ one }) => ({
  server: one(mcpServers, { fields: [mcpServerRegistry.serverId], references: [mcpServers.id] }),
}));

export const mcpToolExecutionsRelations = relations(mcpToolExecutions, ({ one }) => ({
  server: one(mcpServers, { fields: [mcpToolExecutions.serverId], references: [mcpServers.id] }),
}));
