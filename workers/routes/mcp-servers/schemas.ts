import { z } from "@hono/zod-openapi";
import { MCP_HEALTH_STATUSES, MCP_SERVER_STATUSES, MCP_TRANSPORTS } from "../../../db/schema/mcp";
import { HEADER_NAME, isManagedSecretName, RESERVED_HEADERS } from "../../../mcp/client/credentials";
import type { McpRegistryRow, McpServerRow } from "../../../mcp/client/types";
import { iso, timestamp } from "../../lib/schemas";
import { SECRET_NAME } from "../../lib/secrets";
import { isReservedSecretName, RESERVED_SECRET_PREFIX } from "../secrets/schemas";

/** A server's name: how tools are addressed (`POST /v1/mcp/execute` `{ server }`), so identifier-like. */
export const SERVER_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const serverName = z
  .string()
  .regex(SERVER_NAME, "lowercase letters, digits, dashes and underscores; 1-63 characters")
  .openapi({
    description:
      "Unique among the tenant's servers (a deleted server's name is free again). Names of built-in " +
      "servers (`GET /v1/mcp/builtin`) are reserved.",
    example: "github",
  });

export const serverDescription = z
  .string()
  .max(2000)
  .nullable()
  .openapi({ example: "GitHub issues and PRs." });

export const serverUrl = z
  .string()
  .max(2048)
  .openapi({
    description:
      "The server's MCP endpoint, http(s) on a public host. Refused (422): other schemes, credentials in " +
      "the URL (use `authToken` or `headers`), private, loopback, link-local and metadata addresses. " +
      "Every role that can read MCP servers sees it: keep tokens out of the query string.",
    example: "https://mcp.example.com/mcp",
  });

export const serverTransport = z.enum(MCP_TRANSPORTS).openapi({
  description:
    "`streamable_http` (current MCP; a 4xx answer to `initialize` falls back to the legacy transport " +
    "at the same URL) or `sse` (the legacy HTTP+SSE transport: the URL is the event-stream endpoint).",
  example: "streamable_http",
});

export const serverStatus = z.enum(MCP_SERVER_STATUSES).openapi({
  description: "`disabled` servers keep their settings but are never called (discovery, health, tools).",
  example: "active",
});

// Printable ASCII and obs-text: a CR or LF would split the header, a NUL is refused by fetch.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const authSecretName = z
  .string()
  .regex(SECRET_NAME, "a secret name: a letter or underscore, then letters, digits or underscores")
  .refine((name) => !isReservedSecretName(name), `names starting with ${RESERVED_SECRET_PREFIX} are reserved`)
  .nullable()
  .openapi({
    description:
      "Name of a tenant secret (`PUT /v1/secrets/{name}`) whose value is sent as `Authorization: Bearer " +
      "<value>`. Read at every call, so rotating the secret needs no change here. Excludes `authToken` and " +
      "`headers`.",
    example: "GITHUB_MCP_TOKEN",
  });

export const authToken = z
  .string()
  .min(1)
  .max(8192)
  .regex(HEADER_VALUE, "no control characters")
  .nullable()
  .openapi({
    description:
      "A bearer token for this server only, stored encrypted and never returned (responses say `hasAuth`).",
    example: "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
  });

export const MAX_AUTH_HEADERS = 20;

export const authHeaders = z
  .record(
    z.string().regex(HEADER_NAME, "an HTTP header name"),
    z.string().max(8192).regex(HEADER_VALUE, "no control characters"),
  )
  .refine((h) => Object.keys(h).length <= MAX_AUTH_HEADERS, `at most ${MAX_AUTH_HEADERS} headers`)
  .refine(
    (h) => Object.keys(h).every((name) => !RESERVED_HEADERS.has(name.toLowerCase())),
    "the transport sets Accept, Content-Type, Host, Mcp-Session-Id, Mcp-Protocol-Version and hop-by-hop headers itself",
  )
  .nullable()
  .openapi({
    description:
      "Extra headers sent with every request to this server (an API key header, say), stored encrypted with " +
      "`authToken` and never returned. With `authToken`, an `Authorization` header here is replaced by it.",
    example: { "X-Api-Key": "key_0123456789" },
  });

const healthSchema = z
  .object({
    status: z.enum(MCP_HEALTH_STATUSES).openapi({
      description:
        "`unknown` until the first check; `healthy`; `degraded` (slow or failing ping after a good " +
        "initialize); `unreachable` (no MCP session: tool calls skip the server for 5 minutes after such a check).",
      example: "healthy",
    }),
    latencyMs: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The last ping's round trip.", example: 42 }),
    lastError: z.string().nullable().openapi({ example: null }),
    checkedAt: timestamp.nullable(),
  })
  .openapi("McpServerHealth");
export type McpServerHealthResponse = z.infer<typeof healthSchema>;

export const mcpServerSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    name: z.string().openapi({ example: "github" }),
    description: z.string().nullable(),
    url: z.string().openapi({ example: "https://mcp.example.com/mcp" }),
    transport: z.enum(MCP_TRANSPORTS),
    status: z.enum(MCP_SERVER_STATUSES),
    hasAuth: z
      .boolean()
      .openapi({ description: "Whether a credential is sent; its value is never returned." }),
    authSecretName: z.string().nullable().openapi({
      description:
        "The tenant secret named as the credential; null for none or an inline `authToken`/`headers`.",
      example: "GITHUB_MCP_TOKEN",
    }),
    health: healthSchema,
    toolCount: z.number().int().nullable().openapi({
      description: "Tools found by the last discovery (`GET .../discover`); null before the first.",
      example: 12,
    }),
    discoveredAt: timestamp.nullable(),
    createdBy: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The user or API key that registered it." }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("McpServer", { description: "A tenant's remote MCP server. Credentials are never returned." });
export type McpServerResponse = z.infer<typeof mcpServerSchema>;

export function toMcpServerResponse(
  server: McpServerRow,
  registry: McpRegistryRow | null,
): McpServerResponse {
  const secret = server.authSecretName;
  return {
    id: server.id,
    name: server.name,
    description: server.description,
    url: server.url,
    transport: server.transport,
    status: server.status,
    hasAuth: secret !== null,
    authSecretName: secret !== null && !isManagedSecretName(secret) ? secret : null,
    health: {
      status: registry?.healthStatus ?? "unknown",
      latencyMs: registry?.latencyMs ?? null,
      lastError: registry?.lastError ?? null,
      checkedAt: registry?.lastHealthAt ? iso(registry.lastHealthAt) : null,
    },
    toolCount: registry?.discoveredAt ? registry.tools.length : null,
    discoveredAt: registry?.discoveredAt ? iso(registry.discoveredAt) : null,
    createdBy: server.createdBy,
    createdAt: iso(server.createdAt),
    updatedAt: iso(server.updatedAt),
  };
}
