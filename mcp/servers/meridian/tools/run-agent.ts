import { z } from "zod";
import { runObject } from "../../../../workers/agents/run/object";
import { MAX_DELEGATION_DEPTH } from "../../../../workers/agents/run/spec";
import { defineTool, ToolError } from "../../../server/types";
import { requirePermission } from "../access";
import { awaitRun, prepareSyncRun, readRun } from "../runs";

/**
 * How long run_agent waits for the answer. Below the 30 s limit of every built-in tool call, so
 * a slow run is handed back as `running` (follow it with get_run) instead of failing the call.
 */
export const RUN_WAIT_MS = 25_000;

export const runAgent = defineTool({
  name: "run_agent",
  title: "Run agent",
  description:
    "Sends a message to one of this tenant's agents and waits for its answer. Returns " +
    "{ runId, agentId, conversationId, status, stopReason, output, error }: output is the agent's " +
    "last reply. Pass conversationId to continue a conversation. A run still going after " +
    `${RUN_WAIT_MS / 1000} s comes back with status running; poll get_run with its runId. ` +
    "Fails with not_found, conflict (the conversation has a run in progress), rate_limited or forbidden; " +
    `called by an agent run ${MAX_DELEGATION_DEPTH} delegations deep, with delegation_too_deep.`,
  input: z.strictObject({
    agentId: z.string().uuid().describe("The agent's id, from list_agents."),
    message: z.string().min(1).max(100_000).describe("What to send the agent."),
    conversationId: z
      .string()
      .uuid()
      .optional()
      .describe("Continue this conversation with the agent; omit to start a new one."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  async run(input, ctx) {
    requirePermission(ctx.principal, "agents:write");
    // An agent run reaching another agent through this server counts as a delegation, as an
    // `agent` tool does; a client outside any run starts a chain.
    if (ctx.delegationDepth !== undefined && ctx.delegationDepth >= MAX_DELEGATION_DEPTH) {
      throw new ToolError(
        `Delegation depth limit reached: the calling agent run is already ${ctx.delegationDepth} ` +
          `levels deep (at most ${MAX_DELEGATION_DEPTH}).`,
        "delegation_too_deep",
      );
    }
    const { run, spec } = await prepareSyncRun(ctx, {
      agentId: input.agentId,
      message: input.message,
      conversationId: input.conversationId,
      delegationDepth: ctx.delegationDepth === undefined ? 0 : ctx.delegationDepth + 1,
    });
    // After the commit: the object writes to the rows prepareSyncRun stored.
    await runObject(ctx.env, run).start(spec);
    await awaitRun(ctx, run, RUN_WAIT_MS);
    return readRun(ctx.db, run.id);
  },
});
