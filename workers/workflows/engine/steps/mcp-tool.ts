import { executeRemoteTool } from "../../../../mcp/client/execute";
import { executeBuiltinTool, isBuiltinServer, UnknownToolError } from "../../../../mcp/server/execute";
import { actorPrincipal } from "../../../agents/run/spec";
import type { McpToolStep } from "../../definition/schema";
import { type StepContext, StepError } from "./context";

/** Failure reasons of a tool call that another attempt may fix. */
const RETRYABLE_REASONS = new Set(["timeout", "unreachable", "http_error", "server_unhealthy"]);

/**
 * Calls one tool of a built-in or registered MCP server through the same path as
 * `POST /v1/mcp/execute`: the tool's schema checks the arguments, the call is recorded in
 * `mcp_tool_executions`, and it acts as whoever started the execution.
 */
export async function runMcpToolStep(step: McpToolStep, args: unknown, ctx: StepContext): Promise<unknown> {
  const result = await ctx
    .inTenant((db) => {
      const toolCtx = {
        tenantId: ctx.spec.tenantId,
        principal: actorPrincipal(ctx.spec.tenantId, ctx.spec.actor),
        db,
        config: ctx.config,
        env: ctx.env,
        signal: ctx.signal,
      };
      return isBuiltinServer(step.server)
        ? executeBuiltinTool(toolCtx, { serverName: step.server, toolName: step.tool, input: args })
        : executeRemoteTool(toolCtx, { server: step.server, toolName: step.tool, input: args });
    })
    .catch((error: unknown) => {
      if (error instanceof UnknownToolError) throw new StepError("unknown_tool", error.message, false);
      throw error;
    });
  if (result.status === "succeeded") return result.output ?? null;
  const reason = result.error?.reason ?? "tool_failed";
  throw new StepError(
    reason === "timeout" ? "timeout" : "tool_failed",
    `${step.server}/${step.tool}: ${result.error?.message ?? "the tool failed"} (${reason})`,
    RETRYABLE_REASONS.has(reason),
  );
}
