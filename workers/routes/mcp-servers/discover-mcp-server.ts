import { createRoute, z } from "@hono/zod-openapi";
import { MCP_TRANSPORTS } from "../../../db/schema/mcp";
import {
  DISCOVERY_TTL_MS,
  type Discovery,
  discoverRemote,
  toRegistryColumns,
} from "../../../mcp/client/discover";
import { RemoteMcpError } from "../../../mcp/client/errors";
import { saveDiscovery } from "../../../mcp/client/registry";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { cachedServerDiscovery, invalidateMcpDiscovery } from "../../cache/mcp-discovery";
import { cacheDeps } from "../../cache/request";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { iso, timestamp, uuidParam } from "../../lib/schemas";
import { loadMcpServer } from "./load";
import { inOwnTransaction, remoteProblem } from "./remote";

const query = z.object({
  refresh: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true")
    .openapi({ description: "Ask the server even if a cached discovery is still fresh." }),
});

const json = z.record(z.string(), z.unknown());

const discoverySchema = z
  .object({
    serverId: z.string().uuid(),
    cached: z
      .boolean()
      .openapi({ description: "True when served from the registry without calling the server." }),
    discoveredAt: timestamp,
    expiresAt: timestamp.openapi({
      description: "When the cached discovery stops being served (10 minutes).",
    }),
    transport: z.enum(MCP_TRANSPORTS).openapi({
      description: "The transport that answered: `sse` after a fallback from Streamable HTTP.",
    }),
    server: z
      .object({
        name: z.string().openapi({ example: "github-mcp" }),
        version: z.string().openapi({ example: "1.4.0" }),
        title: z.string().optional(),
        protocolVersion: z.string().openapi({ example: "2025-06-18" }),
        capabilities: json,
        instructions: z.string().optional(),
      })
      .openapi({ description: "The server's `initialize` answer." }),
    tools: z.array(
      z
        .object({
          name: z.string().openapi({ example: "search_issues" }),
          title: z.string().optional(),
          description: z.string().optional(),
          inputSchema: json
            .optional()
            .openapi({ description: "JSON Schema of the arguments; calls are checked against it." }),
          outputSchema: json.optional(),
          annotations: json.optional(),
        })
        .openapi("McpRemoteTool"),
    ),
    resources: z.array(
      z
        .object({
          uri: z.string().openapi({ example: "repo://octo/hello/README.md" }),
          name: z.string(),
          description: z.string().optional(),
          mimeType: z.string().optional(),
        })
        .openapi("McpRemoteResource"),
    ),
    prompts: z.array(
      z
        .object({
          name: z.string(),
          description: z.string().optional(),
          arguments: z
            .array(
              z.object({
                name: z.string(),
                description: z.string().optional(),
                required: z.boolean().optional(),
              }),
            )
            .optional(),
        })
        .openapi("McpRemotePrompt"),
    ),
  })
  .openapi("McpServerDiscovery");
export type DiscoverMcpServerResponse = z.infer<typeof discoverySchema>;

const route = createRoute({
  operationId: "discoverMcpServer",
  tags: ["mcp-servers"],
  method: "get",
  path: "/v1/mcp/servers/{id}/discover",
  summary: "List a remote server's tools, resources and prompts",
  description:
    "Served from the registry for 10 minutes after the last discovery, without calling the server; " +
    "`refresh=true` asks it again. Resources and prompts are listed only when the server declares them, " +
    "and come back empty (not an error) otherwise. The server's failure is 502 (504 for a timeout) with " +
    "the reason at the end of `detail` (`unreachable`, `auth_failed`, `invalid_response`, " +
    "`output_too_large`, `http_error`, `protocol_error`); a URL refused by the outbound policy or a " +
    "missing secret is 422; a disabled server is 409.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "MCP server") }), query },
  responses: {
    200: {
      description: "What the server offers.",
      content: { "application/json": { schema: discoverySchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 422, 429, 500, 502, 504),
  },
});

function toResponse(serverId: string, discovery: Discovery, cached: boolean): DiscoverMcpServerResponse {
  const { transport, ...server } = discovery.server;
  return {
    serverId,
    cached,
    discoveredAt: iso(discovery.discoveredAt),
    expiresAt: iso(new Date(discovery.discoveredAt.getTime() + DISCOVERY_TTL_MS)),
    transport,
    server,
    tools: discovery.tools,
    resources: discovery.resources,
    prompts: discovery.prompts,
  };
}

export function registerDiscoverMcpServer(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:read");
    const { refresh } = c.req.valid("query");
    const db = c.get("db");
    const id = c.req.valid("param").id;
    const { server, discovery: cached } = refresh
      ? await loadMcpServer(db, id).then(({ server }) => ({ server, discovery: null }))
      : await cachedServerDiscovery(cacheDeps(c), db, id);
    if (server.status === "disabled") {
      throw new ApiError("CONFLICT", { detail: `The MCP server "${server.name}" is disabled.` });
    }
    if (cached) return c.json(toResponse(server.id, cached, true), 200);

    let discovery: Discovery;
    try {
      discovery = await discoverRemote({ db, config: c.get("config"), signal: c.req.raw.signal }, server);
    } catch (error) {
      if (error instanceof RemoteMcpError) throw remoteProblem(error);
      throw error;
    }
    await inOwnTransaction(c, (writable) => saveDiscovery(writable, server.id, toRegistryColumns(discovery)));
    await invalidateMcpDiscovery(c);
    return c.json(toResponse(server.id, discovery, false), 200);
  });
}
