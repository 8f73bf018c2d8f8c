import type { RunSpec } from "../agents/run/spec";
import type { RunnableTool } from "../agents/tools/run-tools";
import { principalColumns } from "./model-call";
import { tokensByModel } from "./query-embedding";
import type { UsageEvent } from "./record";

/**
 * The events of one tool call an agent run made, when it ran (a denied or never-started call did
 * no work): the call itself, and the tokens of any query it embedded (a knowledge-base search),
 * one event per embedding model. MCP tools are left out: their calls are metered where every
 * MCP call is recorded (`recordCall`, keyed by its execution). The keys name the run, the model
 * call that asked for the tool and the tool_use id, which a replay of the run reproduces.
 */
export function agentToolCallEvents(call: {
  spec: Pick<RunSpec, "runId" | "agentId" | "actor">;
  modelCall: number;
  toolUseId: string;
  tool: Pick<RunnableTool, "kind"> | undefined;
  status: "succeeded" | "failed" | "denied" | "cancelled";
  embeddings?: ReadonlyArray<{ model: string; tokens: number }> | undefined;
}): UsageEvent[] {
  if (!call.tool || call.tool.kind === "mcp") return [];
  if (call.status !== "succeeded" && call.status !== "failed") return [];
  const { spec } = call;
  const workItem = `agent_tool_call:${spec.runId}:${call.modelCall}:${call.toolUseId}`;
  const columns = {
    agentId: spec.agentId,
    resourceType: "agent_run",
    resourceId: spec.runId,
    ...principalColumns(spec.actor),
  };
  return [
    { eventKey: `${workItem}:tool_calls`, meter: "tool_calls", quantity: 1, unit: "calls", ...columns },
    ...tokensByModel(call.embeddings ?? []).map(
      ([model, tokens]): UsageEvent => ({
        eventKey: `${workItem}:${model}:embedding_tokens`,
        meter: "embedding_tokens",
        quantity: tokens,
        unit: "tokens",
        model,
        ...columns,
      }),
    ),
  ];
}
