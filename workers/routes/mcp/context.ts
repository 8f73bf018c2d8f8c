import type { McpToolContext } from "../../../mcp/server/types";
import type { Context } from "../../app";

/**
 * The context a built-in tool runs with, from the authenticated request: the tenant and
 * principal the middleware established (refreshed in the tenant transaction), never anything
 * the MCP client or the body says.
 */
export function mcpToolContext(c: Context): McpToolContext {
  const db = c.get("db");
  return {
    tenantId: db.tenantId,
    principal: c.get("principal"),
    db,
    config: c.get("config"),
    env: c.env,
    signal: c.req.raw.signal,
    logger: c.get("logger"),
  };
}
