import type { z } from "zod";
import type { TenantDb } from "../../db/tenant";
import type { Principal } from "../../workers/auth/principal";
import type { Config, Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";

/**
 * What a built-in tool runs with: the caller's tenant (as a tenant-scoped database handle,
 * so a tool cannot reach another tenant's rows) and principal, never anything the model or
 * the MCP client says about who it is.
 */
export interface McpToolContext {
  tenantId: string;
  principal: Principal;
  db: TenantDb;
  config: Config;
  env: Env;
  signal: AbortSignal;
  /** Where a tool's unexpected failure is logged (with the request id); omitted, it is not logged. */
  logger?: Logger;
  /**
   * Set when an agent run calls the tool: that run's RunSpec.delegationDepth, so a tool that
   * starts agent runs (`run_agent`) starts them one level deeper and stops at the limit.
   */
  delegationDepth?: number;
}

/**
 * A tool of a built-in MCP server. `input` validates the arguments before `run` sees them;
 * `run` returns plain JSON, which the server sends back as the tool's text content (and
 * structured content). Throwing `ToolError` answers an error result the client can read
 * (`isError: true`); any other exception is a server fault.
 */
export interface McpTool<I extends z.ZodType = z.ZodType> {
  name: string;
  title?: string;
  description: string;
  input: I;
  /** Hints for clients (MCP tool annotations). */
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean };
  run(input: z.infer<I>, ctx: McpToolContext): Promise<unknown>;
}

/** A built-in MCP server: a name (its path segment), a description and its tools. */
export interface BuiltinMcpServer {
  name: string;
  title: string;
  description: string;
  version: string;
  tools: McpTool[];
}

/** A tool's refusal or failure the caller should see as an error result, not a crash. */
export class ToolError extends Error {
  constructor(
    message: string,
    /** Stable, machine-readable reason: `division_by_zero`, `path_outside_root`, `read_only`, ... */
    readonly reason: string,
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** Declares a tool with its input type inferred from the schema. */
export function defineTool<I extends z.ZodType>(tool: McpTool<I>): McpTool {
  return tool as unknown as McpTool;
}
