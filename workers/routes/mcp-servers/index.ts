import type { App } from "../../app";
import { registerCheckMcpServerHealth } from "./check-mcp-server-health";
import { registerCreateMcpServer } from "./create-mcp-server";
import { registerDeleteMcpServer } from "./delete-mcp-server";
import { registerDiscoverMcpServer } from "./discover-mcp-server";
import { registerGetMcpServer } from "./get-mcp-server";
import { registerListMcpServers } from "./list-mcp-servers";
import { registerUpdateMcpServer } from "./update-mcp-server";

/** Tenants' remote MCP servers: the registry, discovery and health (the client is mcp/client/). */
export function registerMcpServerRoutes(app: App) {
  registerCreateMcpServer(app);
  registerListMcpServers(app);
  registerGetMcpServer(app);
  registerUpdateMcpServer(app);
  registerDeleteMcpServer(app);
  registerDiscoverMcpServer(app);
  registerCheckMcpServerHealth(app);
}
