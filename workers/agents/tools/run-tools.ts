import type Anthropic from "@anthropic-ai/sdk";
import { and, eq, isNull } from "drizzle-orm";
import { mcpServerRegistry, mcpServers } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { executeRemoteTool } from "../../../mcp/client/execute";
import { describeTool } from "../../../mcp/server/describe";
import { type ExecuteResult, executeBuiltinTool } from "../../../mcp/server/execute";
import type { McpToolContext } from "../../../mcp/server/types";
import { BUILTIN_MCP_SERVERS } from "../../../mcp/servers";
import { cachedRemoteToolRows } from "../../cache/mcp-discovery";
import type { Config, Env } from "../../env";
import type { Telemetry } from "../../lib/telemetry";
import { telemetryFor } from "../../observability/telemetry";
import { traceToolCalls } from "../../observability/tracing/tools";
import { actorPrincipal, type RunSpec, type RunTool } from "../run/spec";
import { agentTool } from "./agent";
import { knowledgeBaseTool } from "./knowledge-base";
import { BUILTIN_TOOLS, executeTool, type ToolOutcome, toolDefinition } from "./registry";

/** A tool as a run uses it: what the model is told, whether a human must approve, how to call it. */
export interface RunnableTool {
  /** What kind of tool this is, as metrics label it. */
  kind: "builtin" | "knowledge" | "agent" | "mcp";
  definition: Anthropic.Tool;
  requiresApproval: boolean;
  call(
    input: unknown,
    opts: { signal: AbortSignal; maxOutputBytes: number; toolUseId?: string },
  ): Promise<ToolOutcome>;
}

/** What MCP tools need from the run's host: a short tenant transaction, and the deployment. */
export interface RunToolHost {
  inTenant<T>(fn: (db: TenantDb) => Promise<T>): Promise<T>;
  config: Config;
  env: Env;
  /** Where cache hits and misses are counted. @default the isolate's telemetry for `config` */
  telemetry?: Telemetry;
}

/** Where an agent's `mcp` tool points: `config.server` and `config.tool` (defaults to the tool's name). */
function mcpTarget(entry: RunTool): { server: string; tool: string } | null {
  const server = entry.config?.server;
  const tool = entry.config?.tool ?? entry.name;
  return typeof server === "string" && typeof tool === "string" ? { server, tool } : null;
}

/**
 * The agent's tools the run can call: built-in tools, knowledge-base search over the tenant's
 * collections, other agents of the tenant (`agent`), tools of Meridian's built-in MCP servers,
 * and tools of the tenant's remote MCP servers as last discovered (a disabled, deleted or
 * never-discovered server's tools are left out, so the model is not offered what cannot run).
 * Remote tools cost one read at the start of the run (from the MCP discovery cache, a tenant
 * transaction on a miss); runs without them read nothing.
 */
export async function resolveRunTools(spec: RunSpec, host: RunToolHost): Promise<Map<string, RunnableTool>> {
  const out = new Map<string, RunnableTool>();
  const remote: { entry: RunTool; server: string; tool: string }[] = [];
  for (const entry of spec.tools) {
    if (entry.type === "builtin") {
      const tool = BUILTIN_TOOLS.get(entry.name);
      if (!tool) continue;
      out.set(entry.name, {
        kind: "builtin",
        definition: toolDefinition(tool),
        requiresApproval: entry.requiresApproval,
        call: (input, opts) => executeTool(tool, input, { tenantId: spec.tenantId, ...opts }),
      });
      continue;
    }
    if (entry.type === "knowledge_base") {
      const tool = knowledgeBaseTool(entry, host);
      if (tool) out.set(entry.name, tool);
      continue;
    }
    if (entry.type === "agent") {
      const tool = agentTool(entry, spec, host);
      if (tool) out.set(entry.name, tool);
      continue;
    }
    if (entry.type !== "mcp") continue;
    const target = mcpTarget(entry);
    if (!target) continue;
    const server = BUILTIN_MCP_SERVERS.get(target.server);
    if (!server) {
      remote.push({ entry, ...target });
      continue;
    }
    const tool = server.tools.find((t) => t.name === target.tool);
    if (!tool) continue;
    const described = describeTool(tool);
    out.set(entry.name, {
      kind: "mcp",
      definition: {
        name: entry.name,
        description: entry.description ?? described.description,
        input_schema: described.inputSchema as Anthropic.Tool["input_schema"],
      },
      requiresApproval: entry.requiresApproval,
      call: (input, opts) =>
        callMcp(host, spec, opts, (ctx) =>
          executeBuiltinTool(ctx, {
            serverName: target.server,
            toolName: target.tool,
            input,
            runId: spec.runId,
          }),
        ),
    });
  }
  if (remote.length > 0) await addRemoteTools(out, remote, spec, host);
  return traceToolCalls(out, spec);
}

async function addRemoteTools(
  out: Map<string, RunnableTool>,
  wanted: { entry: RunTool; server: string; tool: string }[],
  spec: RunSpec,
  host: RunToolHost,
): Promise<void> {
  // A hit spares the run a whole tenant transaction before its first model call.
  const deps = { config: host.config, telemetry: host.telemetry ?? telemetryFor(host.config) };
  const rows = await cachedRemoteToolRows(deps, spec.tenantId, () =>
    host.inTenant((db) =>
      db
        .select({ name: mcpServers.name, status: mcpServers.status, tools: mcpServerRegistry.tools })
        .from(mcpServers)
        .leftJoin(
          mcpServerRegistry,
          and(
            eq(mcpServerRegistry.tenantId, mcpServers.tenantId),
            eq(mcpServerRegistry.serverId, mcpServers.id),
          ),
        )
        .where(and(eq(mcpServers.tenantId, db.tenantId), isNull(mcpServers.deletedAt))),
    ),
  );
  for (const { entry, server, tool } of wanted) {
    const row = rows.find((r) => r.name === server && r.status === "active");
    const discovered = row?.tools?.find((t) => t.name === tool);
    if (!discovered) continue;
    out.set(entry.name, {
      kind: "mcp",
      definition: {
        name: entry.name,
        description: entry.description ?? discovered.description ?? `${tool} on ${server}`,
        input_schema: (discovered.inputSchema ?? { type: "object" }) as Anthropic.Tool["input_schema"],
      },
      requiresApproval: entry.requiresApproval,
      call: (input, opts) =>
        callMcp(host, spec, opts, (ctx) =>
          executeRemoteTool(ctx, { server, toolName: tool, input, runId: spec.runId }),
        ),
    });
  }
}

/**
 * One MCP call in its own tenant transaction (a tool's writes commit with its record, and no
 * lock outlives the call), as the principal that started the run, its result cut to the run's
 * tool output limit.
 */
async function callMcp(
  host: RunToolHost,
  spec: RunSpec,
  opts: { signal: AbortSignal; maxOutputBytes: number },
  execute: (ctx: McpToolContext) => Promise<ExecuteResult>,
): Promise<ToolOutcome> {
  const started = Date.now();
  const result = await host.inTenant((db) =>
    execute({
      tenantId: spec.tenantId,
      principal: actorPrincipal(spec.tenantId, spec.actor),
      db,
      config: host.config,
      env: host.env,
      signal: opts.signal,
      delegationDepth: spec.delegationDepth,
    }),
  );
  const body =
    result.status === "succeeded"
      ? JSON.stringify(result.output ?? null)
      : JSON.stringify({ error: result.error?.message ?? "the tool failed", reason: result.error?.reason });
  const bytes = new TextEncoder().encode(body);
  let cut = Math.min(bytes.byteLength, opts.maxOutputBytes);
  while (cut < bytes.byteLength && cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return {
    status: result.status,
    content: cut < bytes.byteLength ? new TextDecoder().decode(bytes.slice(0, cut)) : body,
    truncated: cut < bytes.byteLength,
    durationMs: Date.now() - started,
  };
}
