import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { and, eq, isNull } from "drizzle-orm";
import { mcpServers } from "../../db/schema/mcp";
import type { TenantDb } from "../../db/tenant";
import { type SchemaIssue, schemaIssues } from "../../workers/lib/json-schema";
import { type ExecuteResult, recordCall, type ToolFailure, UnknownToolError } from "../server/execute";
import type { McpToolContext } from "../server/types";
import {
  CALL_TIMEOUT_MS,
  connectRemote,
  MAX_OUTPUT_BYTES,
  type RemoteConnection,
  type RemoteTool,
} from "./connect";
import { cachedDiscovery } from "./discover";
import { quote, RemoteMcpError } from "./errors";
import { isHeldUnhealthy } from "./health";
import { readRegistry } from "./registry";
import type { McpServerRow } from "./types";

/** One call of a tool on a tenant's remote server. */
export interface RemoteExecuteRequest {
  /** The server's row, or its name (a live server of the tenant). */
  server: McpServerRow | string;
  toolName: string;
  /** The arguments; validated against the tool's discovered input schema before the call. */
  input: unknown;
  /** The agent run making the call, recorded with it. */
  runId?: string | null;
  /** Per-request timeout. @default CALL_TIMEOUT_MS (15 s) */
  timeoutMs?: number;
}

/** No live server of the tenant has that name; nothing was recorded. */
export class UnknownRemoteServerError extends UnknownToolError {
  constructor(serverName: string) {
    super(serverName, null);
    this.message = `No MCP server is named "${serverName}".`;
    this.name = "UnknownRemoteServerError";
  }
}

/**
 * The tenant's live server called `name`, or null. Names are unique among live servers, so
 * there is at most one.
 *
 * @example
 * const server = await loadServerByName(ctx.db, "github");
 */
export async function loadServerByName(db: TenantDb, name: string): Promise<McpServerRow | null> {
  const [row] = await db
    .select()
    .from(mcpServers)
    .where(
      and(eq(mcpServers.tenantId, db.tenantId), eq(mcpServers.name, name), isNull(mcpServers.deletedAt)),
    );
  return row ?? null;
}

type Outcome = { status: "succeeded"; output: unknown } | { status: "failed"; error: ToolFailure };

const failed = (message: string, reason: string, issues?: ToolFailure["issues"]): Outcome => ({
  status: "failed",
  error: issues ? { message, reason, issues } : { message, reason },
});

/**
 * Calls one tool of a tenant's remote MCP server and records the call, whatever its outcome, as
 * one `mcp_tool_executions` row (source `remote`, with the server's id and name) in `ctx.db`'s
 * transaction, which must be read-write. Same result as `executeBuiltinTool`; a succeeded call's
 * `output` is the tool's MCP result, `{ content, structuredContent? }`.
 *
 * Before anything is sent: a disabled server fails `server_disabled`; one a health check found
 * unreachable within the last `UNHEALTHY_HOLD_MS` fails `server_unhealthy`; input that does not
 * match the tool's JSON Schema (from the cached discovery, or a live `tools/list` when the cache
 * is stale or lacks the tool) fails `invalid_input` with `issues`. The call itself can fail with
 * any `RemoteMcpError` reason (`timeout`, `output_too_large`, `invalid_response`, ...) or
 * `tool_error` when the tool answers an error result.
 *
 * @throws UnknownToolError (`UnknownRemoteServerError` for the server) when the server or the
 *   tool does not exist; nothing is recorded.
 * @throws Error when the database fails.
 * @example
 * const r = await executeRemoteTool(ctx, { server: "github", toolName: "search", input: { q: "mcp" } });
 */
export async function executeRemoteTool(
  ctx: McpToolContext,
  req: RemoteExecuteRequest,
): Promise<ExecuteResult> {
  const server = typeof req.server === "string" ? await loadServerByName(ctx.db, req.server) : req.server;
  if (!server || server.deletedAt !== null) {
    throw new UnknownRemoteServerError(typeof req.server === "string" ? req.server : req.server.name);
  }
  const startedAt = new Date();
  const outcome = await run(ctx, server, req);
  return recordCall(
    ctx,
    {
      serverId: server.id,
      serverName: server.name,
      toolName: req.toolName,
      runId: req.runId,
      input: req.input,
    },
    outcome,
    startedAt,
  );
}

async function run(ctx: McpToolContext, server: McpServerRow, req: RemoteExecuteRequest): Promise<Outcome> {
  if (server.status === "disabled") {
    return failed(`The MCP server "${server.name}" is disabled.`, "server_disabled");
  }
  const registry = await readRegistry(ctx.db, server.id);
  if (isHeldUnhealthy(registry)) {
    const why = registry?.lastError ? `: ${registry.lastError}` : "";
    return failed(
      `The MCP server "${server.name}" was unreachable at its last health check${why}`,
      "server_unhealthy",
    );
  }
  if (typeof req.input !== "object" || req.input === null || Array.isArray(req.input)) {
    return failed("A tool's input must be a JSON object.", "invalid_input", [
      { path: "(root)", message: "must be an object" },
    ]);
  }
  const input = req.input as Record<string, unknown>;

  // Validate before connecting when the cached discovery knows the tool; otherwise the live list
  // (on the connection that then makes the call) provides the schema.
  let tool = cachedDiscovery(registry)?.tools.find((t) => t.name === req.toolName);
  if (tool) {
    const invalid = validate(tool, input);
    if (invalid) return invalid;
  }

  let conn: RemoteConnection | undefined;
  try {
    conn = await connectRemote(ctx, server, { timeoutMs: req.timeoutMs ?? CALL_TIMEOUT_MS });
    if (!tool) {
      tool = (await conn.listTools()).find((t) => t.name === req.toolName);
      if (!tool) throw new UnknownToolError(server.name, req.toolName);
      const invalid = validate(tool, input);
      if (invalid) return invalid;
    }
    const result = await conn.callTool(req.toolName, input);
    return toOutcome(result);
  } catch (error) {
    if (error instanceof RemoteMcpError) return failed(error.message, error.reason);
    throw error;
  } finally {
    await conn?.close();
  }
}

function toOutcome(result: CallToolResult): Outcome {
  const output: Record<string, unknown> = { content: result.content };
  if (result.structuredContent !== undefined) output.structuredContent = result.structuredContent;
  // The per-response cap already bounds this; the check keeps the contract if the cap changes.
  const bytes = new TextEncoder().encode(JSON.stringify(output)).byteLength;
  if (bytes > MAX_OUTPUT_BYTES) {
    return failed(`The tool's output is larger than ${MAX_OUTPUT_BYTES} bytes.`, "output_too_large");
  }
  if (result.isError) {
    const text = result.content
      .map((block) => (block.type === "text" ? block.text : ""))
      .filter(Boolean)
      .join(" ");
    return failed(text ? quote(text) : "The tool answered an error without a message.", "tool_error");
  }
  return { status: "succeeded", output };
}

/**
 * The failure for `input` that does not match the tool's input schema, or null when it matches.
 * A schema the validator cannot use fails closed (`protocol_error`).
 */
function validate(tool: RemoteTool, input: Record<string, unknown>): Outcome | null {
  const schema = tool.inputSchema ?? { type: "object" };
  let issues: SchemaIssue[];
  try {
    issues = schemaIssues(schema, input);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return failed(`The input schema of "${tool.name}" cannot be used: ${quote(why)}`, "protocol_error");
  }
  if (issues.length === 0) return null;
  return failed(`The input does not match the schema of "${tool.name}".`, "invalid_input", issues);
}
