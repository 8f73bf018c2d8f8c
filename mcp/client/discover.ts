import type { DiscoveredTool } from "../../db/schema/mcp";
import {
  connectRemote,
  type McpTransport,
  type RemoteContext,
  type RemotePrompt,
  type RemoteResource,
  type RemoteServerInfo,
  type RemoteTool,
} from "./connect";
import type { McpRegistryRow, McpServerRow } from "./types";

/**
 * How long a discovery is served from `mcp_server_registry` before the server is asked again.
 * Tool lists change with deployments, not per request; `?refresh=true` forces a new one.
 * @default 10 minutes
 */
export const DISCOVERY_TTL_MS = 10 * 60_000;

/**
 * Largest answer read while discovering: a page of a list can be far larger than a tool result
 * (descriptions and schemas of hundreds of tools).
 * @default 1 MiB
 */
export const DISCOVERY_MAX_BYTES = 1024 * 1024;

/** What a server offers: its tools, resources and prompts, and what it said about itself. */
export interface Discovery {
  server: RemoteServerInfo & { transport: McpTransport };
  tools: RemoteTool[];
  resources: RemoteResource[];
  prompts: RemotePrompt[];
  discoveredAt: Date;
}

/**
 * Asks the server for its tools, resources and prompts, live. Resources and prompts are listed
 * only when the server declares the capability, and a server that answers "method not found"
 * has none: neither fails the discovery.
 *
 * @throws {RemoteMcpError} as `connectRemote`, and from the list calls.
 * @example
 * const discovery = await discoverRemote({ db, config }, server);
 */
export async function discoverRemote(
  ctx: RemoteContext,
  server: Pick<McpServerRow, "url" | "transport" | "authSecretName">,
): Promise<Discovery> {
  const conn = await connectRemote(ctx, server, { maxResponseBytes: DISCOVERY_MAX_BYTES });
  try {
    const tools = await conn.listTools();
    const resources = await conn.listResources();
    const prompts = await conn.listPrompts();
    return {
      server: { ...conn.serverInfo, transport: conn.transport },
      tools,
      resources,
      prompts,
      discoveredAt: new Date(),
    };
  } finally {
    await conn.close();
  }
}

/**
 * The registry columns for a discovery. Resources and prompts go into `server_info` beside
 * the `initialize` result, so a cache hit answers all three without calling the server.
 */
export function toRegistryColumns(
  discovery: Discovery,
): Pick<McpRegistryRow, "tools" | "serverInfo" | "discoveredAt"> {
  return {
    tools: discovery.tools as DiscoveredTool[],
    serverInfo: { ...discovery.server, resources: discovery.resources, prompts: discovery.prompts },
    discoveredAt: discovery.discoveredAt,
  };
}

/**
 * The discovery stored in `row`, or null when there is none or it is older than the TTL.
 *
 * @example
 * const cached = refresh ? null : cachedDiscovery(registry);
 */
export function cachedDiscovery(row: McpRegistryRow | null, now = Date.now()): Discovery | null {
  if (!row?.discoveredAt || !row.serverInfo) return null;
  if (now - row.discoveredAt.getTime() >= DISCOVERY_TTL_MS) return null;
  const { resources, prompts, ...server } = row.serverInfo as unknown as Discovery["server"] & {
    resources?: RemoteResource[];
    prompts?: RemotePrompt[];
  };
  return {
    server,
    tools: row.tools as RemoteTool[],
    resources: resources ?? [],
    prompts: prompts ?? [],
    discoveredAt: row.discoveredAt,
  };
}
