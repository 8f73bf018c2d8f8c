import { and, eq } from "drizzle-orm";
import { tenantSecrets } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { getSecretValue, type SecretsConfig } from "../../workers/lib/secrets";
import { RemoteMcpError } from "./errors";
import type { McpServerRow } from "./types";

/**
 * Inline credentials (a token or headers sent with the server's registration) are kept as a
 * tenant secret of their own under this prefix. `meridian_` names are reserved: the secrets API
 * neither lists, overwrites nor deletes them, so only the server's own routes touch it.
 */
export const MANAGED_SECRET_PREFIX = "meridian_mcp_";

/** The secret holding server `serverId`'s inline credential. */
export function managedSecretName(serverId: string): string {
  return `${MANAGED_SECRET_PREFIX}${serverId.replaceAll("-", "")}`;
}

export function isManagedSecretName(name: string): boolean {
  return name.startsWith(MANAGED_SECRET_PREFIX);
}

/** An inline credential: a bearer token, extra headers, or both. */
export interface InlineCredential {
  token?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** The managed secret's value: versioned JSON, so its shape can change without guessing. */
export function encodeInlineCredential(credential: InlineCredential): string {
  return JSON.stringify({ v: 1, token: credential.token, headers: credential.headers });
}

function decodeInlineCredential(value: string): InlineCredential {
  const parsed = JSON.parse(value) as { v?: number; token?: unknown; headers?: unknown };
  const headers: Record<string, string> = {};
  if (parsed.headers && typeof parsed.headers === "object") {
    for (const [name, v] of Object.entries(parsed.headers)) if (typeof v === "string") headers[name] = v;
  }
  return { token: typeof parsed.token === "string" ? parsed.token : undefined, headers };
}

/**
 * Headers a tenant may not set: the transport owns them (framing, content negotiation, the MCP
 * session) or they are hop-by-hop.
 */
export const RESERVED_HEADERS = new Set([
  "accept",
  "accept-encoding",
  "connection",
  "content-length",
  "content-type",
  "host",
  "keep-alive",
  "last-event-id",
  "mcp-protocol-version",
  "mcp-session-id",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** RFC 9110 token: what a header name may be. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/** Whether the tenant has a secret called `name` (without opening it). */
export async function secretExists(db: TenantDb, name: string): Promise<boolean> {
  const [row] = await db
    .select({ id: tenantSecrets.id })
    .from(tenantSecrets)
    .where(and(eq(tenantSecrets.tenantId, db.tenantId), eq(tenantSecrets.name, name)));
  return row !== undefined;
}

/**
 * The headers that authenticate the platform to `server`: none without a secret; `Authorization:
 * Bearer <value>` for a tenant secret named by the tenant; the stored token and headers for an
 * inline credential. Resolved at every connection, so a rotated secret takes effect at once.
 *
 * @throws {RemoteMcpError} `secret_missing` when the named secret is not set.
 * @throws {ApiError} BAD_ENVIRONMENT / INTERNAL from `getSecretValue` (master key gone, value altered).
 * @example
 * const headers = await resolveAuthHeaders(db, config, server);
 */
export async function resolveAuthHeaders(
  db: TenantDb,
  config: SecretsConfig,
  server: Pick<McpServerRow, "authSecretName">,
): Promise<Headers> {
  const headers = new Headers();
  const name = server.authSecretName;
  if (!name) return headers;
  const value = await getSecretValue(db, config, name);
  if (value === null) {
    throw new RemoteMcpError(
      isManagedSecretName(name)
        ? "the server's stored credential is missing; set authToken or headers again"
        : `the secret ${name} that holds the server's credential is not set`,
      "secret_missing",
    );
  }
  if (!isManagedSecretName(name)) {
    headers.set("authorization", `Bearer ${value}`);
    return headers;
  }
  const inline = decodeInlineCredential(value);
  for (const [header, v] of Object.entries(inline.headers ?? {})) headers.set(header, v);
  if (inline.token) headers.set("authorization", `Bearer ${inline.token}`);
  return headers;
}
