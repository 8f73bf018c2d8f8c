import { ToolError } from "../server/types";

/**
 * Why a call to a tenant's remote MCP server did not succeed. Stable strings: execution results,
 * the execution log and problem details carry them, and clients switch on them.
 */
export const REMOTE_FAILURE_REASONS = [
  /** The URL breaks the outbound policy (scheme, credentials, non-public host). */
  "url_refused",
  /** The tenant secret that holds the server's credential is not set. */
  "secret_missing",
  /** The server answered 401 or 403: the credential is missing, wrong or insufficient. */
  "auth_failed",
  /** No answer: DNS, connection, TLS or a cut stream. */
  "unreachable",
  /** No answer within the per-call timeout. */
  "timeout",
  /** An HTTP error status other than 401/403. */
  "http_error",
  /** The answer was not JSON-RPC (HTML, arbitrary JSON, a broken stream). */
  "invalid_response",
  /** The answer was larger than the output cap. */
  "output_too_large",
  /** A JSON-RPC error, or an unsupported protocol version. */
  "protocol_error",
  /** The server does not offer a tool of that name. */
  "tool_not_found",
  /** The arguments do not match the tool's input schema (checked before the call). */
  "invalid_input",
  /** The tool ran and answered an error result (`isError: true`). */
  "tool_error",
  /** The server is registered but disabled by the tenant. */
  "server_disabled",
  /** The last health check found the server unreachable, recently enough to skip calling it. */
  "server_unhealthy",
  /** The caller cancelled. */
  "cancelled",
] as const;
export type RemoteFailureReason = (typeof REMOTE_FAILURE_REASONS)[number];

/**
 * A remote server's failure, as the platform reports it. A `ToolError`, so whatever turns tool
 * failures into error results treats remote and built-in failures alike.
 */
export class RemoteMcpError extends ToolError {
  constructor(
    message: string,
    override readonly reason: RemoteFailureReason,
  ) {
    super(message, reason);
    this.name = "RemoteMcpError";
  }
}

/** Upstream text quoted in a message is cut to this, so a chatty server cannot flood logs and responses. */
const MAX_QUOTED = 300;

/** `text` cut to a length fit for an error message. */
export function quote(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_QUOTED ? `${flat.slice(0, MAX_QUOTED)}…` : flat;
}
