import type { mcpServerRegistry, mcpServers } from "../../db/schema";

/** A row of `mcp_servers`: a tenant's registered remote MCP server. */
export type McpServerRow = typeof mcpServers.$inferSelect;

/** A row of `mcp_server_registry`: what the platform last learned about a server. */
export type McpRegistryRow = typeof mcpServerRegistry.$inferSelect;
