import { z } from "zod";
import { closeDelegation, openDelegation } from "../run/delegation";
import { runObject } from "../run/object";
import { MAX_DELEGATION_DEPTH, type RunSpec, type RunTool } from "../run/spec";
import { executeTool, toolDefinition } from "./registry";
import type { RunnableTool, RunToolHost } from "./run-tools";
import type { AgentTool, ToolContext } from "./types";

/** An `agent` tool's `config`, checked when the agent is saved (the agent must be the tenant's). */
export const agentToolConfig = z
  .object({
    agentId: z.string().uuid(),
    agentVersion: z.number().int().min(1).optional(),
  })
  .strict();

const input = z
  .object({
    message: z
      .string()
      .min(1)
      .max(100_000)
      .describe("The task, with everything the agent needs: it sees nothing else of this conversation."),
  })
  .strict();

/** Thrown for a delegation that cannot run or did not succeed; the model gets it as the tool's error. */
export class DelegationError extends Error {}

/**
 * An agent's `agent` tool (the supervisor pattern): the model sends `{ message }`, the tool runs
 * the configured worker agent on it to completion, as a run of its own (its own conversation,
 * `agent_runs` row and limits, executed by its own Durable Object, acting with this run's actor)
 * and answers with the worker's final text. The delegation is recorded as an `agent_tasks` row
 * and a `request`/`response` pair of `agent_messages`. Cancelling this run (or its time running
 * out) cancels the worker run. A run already `MAX_DELEGATION_DEPTH` levels down gets an error
 * instead of a worker run.
 *
 * @returns null when the entry's config is invalid (the agent routes refuse such a save).
 */
export function agentTool(entry: RunTool, spec: RunSpec, host: RunToolHost): RunnableTool | null {
  const config = agentToolConfig.safeParse(entry.config ?? {});
  if (!config.success) return null;
  const tool: AgentTool<z.infer<typeof input>> = {
    name: entry.name,
    description:
      entry.description ??
      "Hands a task to another agent and returns its answer. Send the whole task in `message`: " +
        "the agent sees nothing else of this conversation.",
    input,
    run: ({ message }, ctx) => delegate(spec, host, { ...config.data, message }, ctx),
  };
  return {
    kind: "agent",
    definition: toolDefinition(tool),
    requiresApproval: entry.requiresApproval,
    call: (raw, opts) => executeTool(tool, raw, { tenantId: spec.tenantId, ...opts }),
  };
}

async function delegate(
  spec: RunSpec,
  host: RunToolHost,
  target: { agentId: string; agentVersion?: number | undefined; message: string },
  ctx: ToolContext,
): Promise<string> {
  if (spec.delegationDepth >= MAX_DELEGATION_DEPTH) {
    throw new DelegationError(
      `delegation depth limit reached: this agent already runs ${spec.delegationDepth} levels below ` +
        `the agent that started the chain (at most ${MAX_DELEGATION_DEPTH}), so it cannot hand work to another agent`,
    );
  }
  if (!ctx.toolUseId) throw new Error("an agent tool needs the call's tool_use id");
  const toolUseId = ctx.toolUseId;
  const opened = await host.inTenant((db) =>
    openDelegation(db, host.config, { parent: spec, toolUseId, ...target }),
  );
  if (opened.spec) {
    const object = runObject(host.env, opened.run);
    const stop = () => void object.cancel("cancelled").catch(() => undefined);
    ctx.signal.addEventListener("abort", stop, { once: true });
    try {
      // After the commit: the worker's object writes to the rows openDelegation stored.
      await object.start(opened.spec);
      if (ctx.signal.aborted) stop();
      // A failing wait still means the object is done with the run: its row says how it ended.
      await object.result().catch(() => undefined);
    } finally {
      ctx.signal.removeEventListener("abort", stop);
    }
  }
  const closed = await host.inTenant((db) =>
    closeDelegation(db, host.env.JOBS, host.config, opened, spec.agentId),
  );
  if (closed.failure) {
    throw new DelegationError(`the agent's run ${closed.run.id} did not succeed: ${closed.failure}`);
  }
  return closed.output;
}
