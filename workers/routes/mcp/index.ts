import type { App } from "../../app";
import { registerExecuteMcpTool } from "./execute-mcp-tool";
import { registerGetMcpToolExecution } from "./get-mcp-tool-execution";
import { registerListBuiltinMcpServers } from "./list-builtin-mcp-servers";
import { registerListMcpToolExecutions } from "./list-mcp-tool-executions";
import { registerServeBuiltinMcpServer } from "./serve-builtin-mcp-server";

/** Built-in MCP servers (catalogue and MCP endpoints), tool calls and their record. */
export function registerMcpRoutes(app: App) {
  registerListBuiltinMcpServers(app);
  registerServeBuiltinMcpServer(app);
  registerExecuteMcpTool(app);
  registerListMcpToolExecutions(app);
  registerGetMcpToolExecution(app);
}
