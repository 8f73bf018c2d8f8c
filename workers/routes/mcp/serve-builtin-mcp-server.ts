import { methodNotAllowed, serveBuiltinServer } from "../../../mcp/server/serve";
import type { BuiltinMcpServer } from "../../../mcp/server/types";
import { BUILTIN_MCP_SERVERS } from "../../../mcp/servers";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { mcpToolContext } from "./context";

const PATH = "/v1/mcp/builtin/:server";

function builtinServer(name: string): BuiltinMcpServer {
  const server = BUILTIN_MCP_SERVERS.get(name);
  if (!server) throw new ApiError("NOT_FOUND", { detail: `No built-in MCP server is named "${name}".` });
  return server;
}

/**
 * A built-in server's MCP endpoint. Plain hono routes, not `app.openapi`: the body is JSON-RPC
 * for the MCP transport, not a REST resource. Documented in the description of
 * `listBuiltinMcpServers` and in docs/endpoints.md.
 */
export function registerServeBuiltinMcpServer(app: App) {
  app.post(PATH, async (c) => {
    authorize(c, "mcp:execute");
    const server = builtinServer(c.req.param("server"));
    return serveBuiltinServer(server, mcpToolContext(c), c.req.raw);
  });
  app.on(["GET", "DELETE"], PATH, async (c) => {
    authorize(c, "mcp:read");
    builtinServer(c.req.param("server"));
    return methodNotAllowed();
  });
}
