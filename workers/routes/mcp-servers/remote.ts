import { connect } from "../../../db/client";
import { type TenantDb, withTenant } from "../../../db/tenant";
import type { RemoteMcpError } from "../../../mcp/client/errors";
import type { Context } from "../../app";
import { ApiError } from "../../lib/errors";

/**
 * The problem for a remote server's failure during discovery: the server's fault is 502 (504 for
 * a timeout); a URL or secret the tenant must fix is 422. The detail ends with the stable reason.
 */
export function remoteProblem(error: RemoteMcpError): ApiError {
  const detail = `${error.message} (reason: ${error.reason})`;
  switch (error.reason) {
    case "url_refused":
    case "secret_missing":
      return new ApiError("UNPROCESSABLE", { detail, cause: error });
    case "timeout":
      return new ApiError("GATEWAY_TIMEOUT", { detail, cause: error });
    default:
      return new ApiError("BAD_GATEWAY", { detail, cause: error });
  }
}

/**
 * Runs `fn` in a short tenant transaction of its own, committed before the response. For GET
 * routes that record what they learned (discovery, health): the request's transaction is
 * read-only (tenant-db middleware), and the remote call should not sit inside a write transaction
 * anyway.
 */
export async function inOwnTransaction<T>(c: Context, fn: (db: TenantDb) => Promise<T>): Promise<T> {
  const config = c.get("config");
  const client = await connect(config);
  try {
    return await withTenant(client, c.get("db").tenantId, fn);
  } finally {
    c.executionCtx.waitUntil(client.end().catch(() => undefined));
  }
}
