import type { BuiltinMcpServer } from "../server/types";
import { calculatorServer } from "./calculator";
import { databaseServer } from "./database";
import { filesystemServer } from "./filesystem";
import { meridianServer } from "./meridian";

/** Built-in servers, one line each; the name is the path segment of `/v1/mcp/builtin/{name}`. */
const servers: BuiltinMcpServer[] = [
  calculatorServer,
  filesystemServer,
  databaseServer,
  meridianServer,
  // filesystemServer, databaseServer: add yours here (and its import above).
];

/**
 * Every built-in MCP server by name. The MCP endpoint, `POST /v1/mcp/execute` and the agent
 * runtime all resolve built-in tools here.
 *
 * @example
 * const calculator = BUILTIN_MCP_SERVERS.get("calculator");
 */
export const BUILTIN_MCP_SERVERS: ReadonlyMap<string, BuiltinMcpServer> = new Map(
  servers.map((server) => [server.name, server] as const),
);
