import { sql } from "drizzle-orm";
import { mcpToolExecutions } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { newId } from "../../workers/lib/ids";
import { telemetryFor } from "../../workers/observability/telemetry";
import { recordUsageEvents } from "../../workers/usage/record";
import { BUILTIN_MCP_SERVERS } from "../servers";
import { type BuiltinMcpServer, type McpTool, type McpToolContext, ToolError } from "./types";

/** How long a built-in tool may run before its call fails with reason `timeout`. */
export const TOOL_TIMEOUT_MS = 30_000;
/**
 * Largest input or output, as UTF-8 JSON, stored whole in `mcp_tool_executions`. A larger one
 * is stored as `{ truncated: true, bytes, preview }` with the first 64 KiB of its JSON text;
 * the caller still receives it whole, and `inputBytes`/`outputBytes` give the full sizes.
 */
export const MAX_RECORDED_JSON_BYTES = 65_536;

/** One call of a built-in tool. */
export interface ExecuteRequest {
  serverName: string;
  toolName: string;
  /** The arguments as the caller sent them; validated against the tool's schema here. */
  input: unknown;
  /** The agent run making the call, recorded with it. */
  runId?: string | null;
}

/** Why a call failed: the tool's `ToolError`, or one of the reasons this module gives. */
export interface ToolFailure {
  message: string;
  /**
   * The tool's own reason (`division_by_zero`, ...) or `invalid_input` (the arguments fail the
   * tool's schema; see `issues`), `timeout`, `cancelled`, `internal_error` (the tool crashed).
   */
  reason: string;
  /** The schema's complaints, for `invalid_input`. */
  issues?: { path: string; message: string }[];
}

export interface ExecuteResult {
  /** The `mcp_tool_executions` row recording the call. */
  executionId: string;
  status: "succeeded" | "failed";
  /** What the tool returned, as JSON (null for nothing); absent when the call failed. */
  output?: unknown;
  error?: ToolFailure;
  durationMs: number;
}

export interface ExecuteOptions {
  /** Where the server is looked up. @default BUILTIN_MCP_SERVERS */
  servers?: ReadonlyMap<string, BuiltinMcpServer>;
  /** @default TOOL_TIMEOUT_MS */
  timeoutMs?: number;
}

/** The server or the tool named in an `ExecuteRequest` does not exist; nothing was recorded. */
export class UnknownToolError extends Error {
  constructor(
    readonly serverName: string,
    /** Null when the server itself is unknown. */
    readonly toolName: string | null,
  ) {
    super(
      toolName === null
        ? `No built-in MCP server is named "${serverName}".`
        : `The MCP server "${serverName}" has no tool named "${toolName}".`,
    );
    this.name = "UnknownToolError";
  }
}

/** Whether `name` is a built-in server (the REST route sends other names to remote servers). */
export function isBuiltinServer(name: string, servers = BUILTIN_MCP_SERVERS): boolean {
  return servers.has(name);
}

const SAVEPOINT = "mcp_builtin_tool";

/**
 * Calls one built-in tool and records the call, whatever its outcome, as one
 * `mcp_tool_executions` row (source `builtin`) in `ctx.db`'s transaction, which must be
 * read-write. The MCP endpoint, `POST /v1/mcp/execute` and the agent runtime all call tools
 * through here.
 *
 * The input is validated with the tool's schema (a mismatch is a failed call, reason
 * `invalid_input`); the tool runs with `ctx.signal` joined to a timeout, so it should pass
 * `ctx.signal` to anything slow. It runs inside a savepoint: a failed call leaves no writes
 * behind and a failed statement does not abort the caller's transaction. Calls on one `db`
 * run one at a time, because they share its connection and its savepoint.
 *
 * A tool's failure is a result (`status: "failed"`), never a throw: a `ToolError` keeps its
 * reason, any other exception is logged and reported as `internal_error` without its message.
 *
 * @throws UnknownToolError when the server or tool does not exist (nothing is recorded).
 * @throws Error when recording fails (the database is unreachable).
 * @example
 * const r = await executeBuiltinTool(ctx, { serverName: "calculator", toolName: "add", input: { a: 1, b: 2 } });
 * if (r.status === "succeeded") use(r.output); else report(r.error);
 */
export async function executeBuiltinTool(
  ctx: McpToolContext,
  req: ExecuteRequest,
  opts: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const server = (opts.servers ?? BUILTIN_MCP_SERVERS).get(req.serverName);
  if (!server) throw new UnknownToolError(req.serverName, null);
  const tool = server.tools.find((t) => t.name === req.toolName);
  if (!tool) throw new UnknownToolError(req.serverName, req.toolName);
  return oneAtATime(ctx.db, () => execute(ctx, tool, req, opts.timeoutMs ?? TOOL_TIMEOUT_MS));
}

type Outcome = { status: "succeeded"; output: unknown } | { status: "failed"; error: ToolFailure };

async function execute(
  ctx: McpToolContext,
  tool: McpTool,
  req: ExecuteRequest,
  timeoutMs: number,
): Promise<ExecuteResult> {
  const startedAt = new Date();
  const outcome = await runTool(ctx, tool, req.input, timeoutMs);
  return recordCall(
    ctx,
    {
      serverId: null,
      serverName: req.serverName,
      toolName: req.toolName,
      runId: req.runId,
      input: req.input,
    },
    outcome,
    startedAt,
  );
}

/** A finished call's outcome: what the tool returned, or why it failed. */
export type CallOutcome = { status: "succeeded"; output: unknown } | { status: "failed"; error: ToolFailure };

/**
 * Records one call (built-in when `serverId` is null, remote otherwise) in
 * `mcp_tool_executions`, its input and output cut for storage, and returns its result.
 */
export async function recordCall(
  ctx: McpToolContext,
  call: {
    serverId: string | null;
    serverName: string;
    toolName: string;
    runId?: string | null | undefined;
    input: unknown;
  },
  outcome: CallOutcome,
  startedAt: Date,
): Promise<ExecuteResult> {
  const finishedAt = new Date();
  const durationMs = Math.max(0, finishedAt.getTime() - startedAt.getTime());
  const input = forStorage(call.input);
  const output =
    outcome.status === "succeeded" ? forStorage(outcome.output) : forStorage(failureBody(outcome.error));
  const principal = ctx.principal;
  const executionId = newId();
  await ctx.db.insert(mcpToolExecutions).values({
    id: executionId,
    tenantId: ctx.db.tenantId,
    serverId: call.serverId,
    source: call.serverId === null ? "builtin" : "remote",
    serverName: call.serverName,
    toolName: call.toolName,
    runId: call.runId ?? null,
    input: input.stored,
    output: output.stored,
    inputBytes: input.bytes,
    outputBytes: output.bytes,
    error: outcome.status === "failed" ? withoutNul(outcome.error.message) : null,
    status: outcome.status,
    durationMs,
    startedAt,
    finishedAt,
    createdBy:
      principal.kind === "user" ? principal.userId : principal.kind === "api_key" ? principal.keyId : null,
  });
  // Keyed by the execution row written just above, in the same transaction: one event per call.
  await recordUsageEvents(ctx.db, [
    {
      eventKey: `mcp_tool_execution:${executionId}:tool_calls`,
      meter: "tool_calls",
      quantity: 1,
      unit: "calls",
      resourceType: "mcp_tool_execution",
      resourceId: executionId,
      userId: principal.kind === "user" ? principal.userId : null,
      apiKeyId: principal.kind === "api_key" ? principal.keyId : null,
    },
  ]);
  telemetryFor(ctx.config).counter("meridian_tool_calls_total", 1, {
    type: "mcp",
    outcome: outcome.status === "succeeded" ? "ok" : "error",
  });
  return outcome.status === "succeeded"
    ? { executionId, status: "succeeded", output: outcome.output, durationMs }
    : { executionId, status: "failed", error: outcome.error, durationMs };
}

/** The body of a failed call as an MCP client sees it (structured content of the error result). */
export function failureBody(error: ToolFailure): Record<string, unknown> {
  return { error: error.message, reason: error.reason, ...(error.issues ? { issues: error.issues } : {}) };
}

async function runTool(
  ctx: McpToolContext,
  tool: McpTool,
  rawInput: unknown,
  timeoutMs: number,
): Promise<Outcome> {
  const parsed = tool.input.safeParse(rawInput);
  if (!parsed.success) {
    return {
      status: "failed",
      error: {
        message: `The input does not match the schema of "${tool.name}".`,
        reason: "invalid_input",
        issues: parsed.error.issues.map((issue) => ({
          path: issue.path.map(String).join(".") || "(root)",
          message: issue.message,
        })),
      },
    };
  }
  await ctx.db.execute(sql.raw(`SAVEPOINT ${SAVEPOINT}`));
  let outcome: Outcome;
  try {
    const output = await withDeadline(ctx.signal, timeoutMs, (signal) =>
      tool.run(parsed.data, { ...ctx, signal }),
    );
    outcome = { status: "succeeded", output: asJson(output) };
  } catch (error) {
    outcome = { status: "failed", error: toFailure(ctx, tool, error) };
  }
  if (outcome.status === "succeeded") {
    await ctx.db.execute(sql.raw(`RELEASE SAVEPOINT ${SAVEPOINT}`));
  } else {
    await ctx.db.execute(sql.raw(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`));
    await ctx.db.execute(sql.raw(`RELEASE SAVEPOINT ${SAVEPOINT}`));
  }
  return outcome;
}

function toFailure(ctx: McpToolContext, tool: McpTool, error: unknown): ToolFailure {
  if (error instanceof ToolError) return { message: error.message, reason: error.reason };
  ctx.logger?.error("built-in MCP tool failed", {
    tool: tool.name,
    error:
      error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : String(error),
  });
  return { message: "The tool failed unexpectedly.", reason: "internal_error" };
}

/**
 * Runs `fn` with a signal that aborts when `outer` does or `ms` pass, and stops waiting for it
 * then. A tool that ignores its signal keeps running in the background, but its result is
 * no longer awaited.
 */
async function withDeadline<T>(
  outer: AbortSignal,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (outer.aborted) throw cancelled();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        const error = new ToolError(`The tool did not finish within ${ms / 1000} s.`, "timeout");
        controller.abort(error);
        reject(error);
      }, ms);
      onAbort = () => {
        const error = cancelled();
        controller.abort(error);
        reject(error);
      };
      outer.addEventListener("abort", onAbort, { once: true });
      fn(controller.signal).then(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) outer.removeEventListener("abort", onAbort);
  }
}

function cancelled(): ToolError {
  return new ToolError("The call was cancelled.", "cancelled");
}

/** The tool's result as JSON would carry it: what the caller receives and what is stored. */
function asJson(value: unknown): unknown {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // A BigInt or a cycle: the tool broke its contract, as if it had thrown.
    throw new Error("The tool returned a value that is not JSON.");
  }
  return text === undefined ? null : JSON.parse(text);
}

const encoder = new TextEncoder();

/**
 * What is stored for an input or output, cut to MAX_RECORDED_JSON_BYTES, with its full size
 * as UTF-8 JSON.
 *
 * @example
 * const { stored, bytes } = forStorage(output); // insert `stored` into a jsonb column
 */
export function forStorage(value: unknown): { stored: unknown; bytes: number } {
  if (value === undefined) return { stored: null, bytes: 0 };
  let text: string | undefined;
  try {
    // PostgreSQL's jsonb cannot hold U+0000: the stored copy carries U+FFFD in its place.
    text = JSON.stringify(value, (_key, v) => (typeof v === "string" ? withoutNul(v) : v));
  } catch {
    return { stored: { unserializable: true }, bytes: 0 };
  }
  if (text === undefined) return { stored: null, bytes: 0 };
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= MAX_RECORDED_JSON_BYTES)
    return { stored: JSON.parse(text), bytes: bytes.byteLength };
  // A cut inside a multi-byte character decodes to U+FFFD; drop it.
  const preview = new TextDecoder().decode(bytes.subarray(0, MAX_RECORDED_JSON_BYTES)).replace(/\uFFFD$/, "");
  return { stored: { truncated: true, bytes: bytes.byteLength, preview }, bytes: bytes.byteLength };
}

/** `text` with U+0000, which PostgreSQL cannot store in text or jsonb, replaced by U+FFFD. */
export function withoutNul(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

const queues = new WeakMap<TenantDb, Promise<unknown>>();

/** Runs calls on one database handle one after another: they share a connection and a savepoint name. */
function oneAtATime<T>(db: TenantDb, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(db) ?? Promise.resolve();
  const next = previous.then(fn);
  queues.set(
    db,
    next.catch(() => undefined),
  );
  return next;
}
