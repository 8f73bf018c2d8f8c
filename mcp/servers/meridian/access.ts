import type { Principal } from "../../../workers/auth/principal";
import { can, type Permission } from "../../../workers/auth/roles";
import { ApiError } from "../../../workers/lib/errors";
import { ToolError } from "../../server/types";

/**
 * Refuses a caller whose role lacks `permission`. The MCP endpoint itself only requires
 * `mcp:execute`, and agent runs call built-in tools with their starter's role, so each tool
 * checks the permission its REST twin checks.
 *
 * @throws ToolError forbidden
 * @example
 * requirePermission(ctx.principal, "agents:write");
 */
export function requirePermission(principal: Principal, permission: Permission): void {
  const role = principal.kind === "platform_admin" ? "owner" : principal.role;
  if (!can(role, permission)) {
    throw new ToolError(`This credential's role (${role}) lacks ${permission}.`, "forbidden");
  }
}

/**
 * Runs `fn`, turning the `ApiError`s the shared services throw (NOT_FOUND, CONFLICT,
 * RATE_LIMITED, ...) into tool errors with the code as reason (`not_found`, ...), so an MCP
 * client reads them as error results rather than an internal failure.
 *
 * @throws ToolError for a 4xx ApiError; rethrows anything else.
 */
export async function asToolErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    // 5xx codes stay server faults: their detail is not for the client.
    if (error instanceof ApiError && error.status < 500) {
      throw new ToolError(error.message, error.code.toLowerCase());
    }
    throw error;
  }
}
