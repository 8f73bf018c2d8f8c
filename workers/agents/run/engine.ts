import Anthropic from "@anthropic-ai/sdk";
import type { Message } from "../../../db/types";
import { costMicroUsd, type TokenUsage } from "../../lib/models";
import { budgetExhausted } from "../../quotas/budget";
import { agentToolCallEvents } from "../../usage/agent-tool-call";
import { modelCallEvents } from "../../usage/model-call";
import type { UsageEvent } from "../../usage/record";
import type { ToolOutcome } from "../tools/registry";
import type { RunnableTool } from "../tools/run-tools";
import { placeCacheBreakpoints } from "./cache-control";
import type { RunEvent } from "./events";
import { providerFailure } from "./failure";
import { callHold, fitPrompt } from "./hold";
import { withProviderRetries } from "./retry";
import type { RunFailure, RunOutcome, RunSpec } from "./spec";
import type { RunStore } from "./store";
import { appendTurn, type ContentBlock, parseJson, textOf, toBlockParam } from "./transcript";

/** A tool call waiting for a human, as the run record and the stream show it. */
export interface PendingApproval {
  toolUseId: string;
  name: string;
  input: unknown;
  expiresAt: string;
}

export interface ApprovalDecision {
  decision: "approved" | "denied";
  reason: string | null;
}

export interface EngineDeps {
  spec: RunSpec;
  store: RunStore;
  provider: Anthropic;
  emit(event: RunEvent): void;
  /** Aborted to stop the run: a cancel, a gone client, an expired approval. */
  signal: AbortSignal;
  /** The stop reason recorded when `signal` ends the run. */
  stopReasonOnAbort(): string;
  /** The agent's tools this run can call (see resolveRunTools). */
  tools: Map<string, RunnableTool>;
  /** Resolves once a human decided every pending call; rejects when the run is aborted. */
  awaitApprovals(pending: PendingApproval[]): Promise<Map<string, ApprovalDecision>>;
}

class Totals {
  inputTokens = 0;
  outputTokens = 0;
  cacheCreationInputTokens = 0;
  cacheReadInputTokens = 0;
  costMicroUsd = 0;
  modelCalls = 0;
  toolCalls = 0;

  add(usage: TokenUsage, cost: number): void {
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
    this.cacheCreationInputTokens += usage.cacheCreationInputTokens;
    this.cacheReadInputTokens += usage.cacheReadInputTokens;
    this.costMicroUsd += cost;
  }
}

function usageOf(usage: Anthropic.Usage | undefined): TokenUsage {
  return {
    inputTokens: usage?.input_tokens ?? 0,
    outputTokens: usage?.output_tokens ?? 0,
    cacheCreationInputTokens: usage?.cache_creation_input_tokens ?? 0,
    cacheReadInputTokens: usage?.cache_read_input_tokens ?? 0,
  };
}

/**
 * The tool loop: model call (streamed, retried within the time limit), assistant message
 * stored, the calls it asked for run (after a human's approval where the agent requires it)
 * and their results fed back, until the model ends its turn or a limit, a cancel or a
 * provider failure stops it. Every step is stored as it happens and published as an event.
 *
 * Tool results go back to the model only as `tool_result` blocks of a user turn; nothing a
 * tool returns reaches the system prompt, the tool list or the limits, which all come from
 * the spec fixed before the run started.
 */
export async function executeRun(deps: EngineDeps): Promise<RunOutcome> {
  const { spec, store, emit, signal } = deps;
  const started = Date.now();
  // Wall time from the start, not counting time spent waiting for a human's approval.
  let deadline = started + spec.limits.maxExecutionSeconds * 1000;
  const { tools } = deps;
  const toolParams = [...tools.values()].map((tool) => tool.definition);
  const transcript = spec.transcript.map((turn) => ({ ...turn }));
  const totals = new Totals();
  const added: Message[] = [];
  let output = "";
  let stopReason: string | null = null;
  let failure: RunFailure | null = null;
  let cancelled = false;
  let toolRounds = 0;
  /** Usage of a call that ended without a stored message; billed when the run finishes. */
  let unstoredUsage: UsageEvent[] = [];

  emit({
    type: "run_started",
    runId: spec.runId,
    conversationId: spec.conversationId,
    agentId: spec.agentId,
    model: spec.model,
  });

  const abortStop = () => {
    cancelled = true;
    stopReason = deps.stopReasonOnAbort();
  };

  // The next call's prompt, fitted as soon as its transcript is complete, so that its hold can
  // ride on the write made then (see RunStore.holdBudget).
  const fitNext = () => fitPrompt(spec, toolParams, transcript);
  let fitted = fitNext();
  // A run's first hold was taken with its rows (prepareRun), except an async run's, which may
  // have waited in a queue: its move to running takes it.
  if (spec.mode === "async") await store.markRunning(callHold(spec, fitted, deadline));

  while (stopReason === null) {
    if (signal.aborted) {
      abortStop();
      break;
    }
    if (Date.now() >= deadline) {
      stopReason = "max_execution_time";
      break;
    }
    const call = totals.modelCalls + 1;
    const prompt = placeCacheBreakpoints({
      ...(spec.systemPrompt ? { system: spec.systemPrompt } : {}),
      tools: toolParams,
      messages: fitted.messages,
      minCacheableTokens: spec.minCacheableTokens,
    });

    // Each call first holds its share of the tenant's budgets; a call that does not fit ends the run.
    const hold = callHold(spec, fitted, deadline);
    if (hold && !(await store.holdBudget(hold))) {
      const refused = budgetExhausted(null, "call");
      failure = { code: refused.code, detail: refused.message };
      stopReason = "budget_exhausted";
      break;
    }

    let partial: Anthropic.Message | undefined;
    let response: Anthropic.Message;
    try {
      emit({ type: "message_started", call });
      response = await withProviderRetries(
        async () => {
          const stream = deps.provider.messages.stream(
            {
              model: spec.model,
              max_tokens: spec.limits.maxTokens,
              ...(prompt.system ? { system: prompt.system } : {}),
              ...(prompt.tools.length > 0 ? { tools: prompt.tools } : {}),
              messages: prompt.messages,
            },
            { signal, timeout: Math.max(1, deadline - Date.now()), headers: spec.providerHeaders },
          );
          stream.on("text", (text) => emit({ type: "text_delta", call, text }));
          try {
            return await stream.finalMessage();
          } finally {
            partial = stream.currentMessage;
          }
        },
        {
          deadline,
          signal,
          onRetry: ({ attempt, delayMs, status }) =>
            emit({ type: "model_retry", call, attempt, delayMs, status: status ?? null }),
        },
      );
    } catch (error) {
      // Tokens generated before a cancel are still billed by the provider: count them.
      if (partial) unstoredUsage = recordUsage(deps, totals, call, partial.usage).events;
      if (signal.aborted) abortStop();
      else if (error instanceof Anthropic.APIConnectionTimeoutError || Date.now() >= deadline) {
        stopReason = "max_execution_time";
      } else {
        failure = providerFailure(error);
        stopReason = "error";
      }
      break;
    }

    const usage = recordUsage(deps, totals, call, response.usage);
    const content = response.content.map(toBlockParam);
    const assistant = await store.appendMessage(
      "assistant",
      content,
      {
        model: response.model,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cacheCreationInputTokens: usage.cacheCreationInputTokens,
        cacheReadInputTokens: usage.cacheReadInputTokens,
        costMicroUsd: usage.costMicroUsd,
      },
      totals,
      usage.events,
    );
    added.push(assistant);
    appendTurn(transcript, "assistant", content);
    output = textOf(response.content);

    const calls = response.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    if (response.stop_reason !== "tool_use" || calls.length === 0) {
      stopReason = response.stop_reason ?? "end_turn";
      // A tool call cut off by max_tokens is never run; the conversation still gets its answer.
      await answerUnrun(
        store,
        added,
        transcript,
        calls,
        `the answer stopped (${stopReason}) before this call ran`,
      );
      break;
    }

    let decisions = new Map<string, ApprovalDecision>();
    const needApproval = calls.filter((c) => tools.get(c.name)?.requiresApproval);
    if (needApproval.length > 0) {
      const expiresAt = new Date(Date.now() + spec.approvalTtlSeconds * 1000).toISOString();
      const pending = needApproval.map((c) => ({ toolUseId: c.id, name: c.name, input: c.input, expiresAt }));
      await store.setWaiting(pending);
      for (const p of pending) emit({ type: "approval_pending", ...p });
      const waitStarted = Date.now();
      try {
        decisions = await deps.awaitApprovals(pending);
      } catch {
        abortStop();
        await answerUnrun(store, added, transcript, calls, "the run stopped before this call was approved");
        break;
      }
      deadline += Date.now() - waitStarted;
      await store.setWaiting(null);
      for (const [toolUseId, d] of decisions) emit({ type: "approval_resolved", toolUseId, ...d });
    }

    const toolSignal = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]);
    const results: ContentBlock[] = [];
    for (const use of calls) {
      const outcome = await runToolCall(deps, tools.get(use.name), use, decisions.get(use.id), toolSignal);
      totals.toolCalls++;
      await store.recordToolExecution(
        {
          messageId: assistant.id,
          toolUseId: use.id,
          toolName: use.name,
          input: use.input,
          output: outcome.status === "succeeded" ? parseJson(outcome.content) : null,
          error: outcome.status === "succeeded" ? null : outcome.content,
          status: outcome.status,
          durationMs: outcome.durationMs,
          startedAt: new Date(outcome.startedAt),
          finishedAt: new Date(outcome.startedAt + outcome.durationMs),
        },
        agentToolCallEvents({
          spec,
          modelCall: call,
          toolUseId: use.id,
          tool: tools.get(use.name),
          status: outcome.status,
          embeddings: outcome.embeddings,
        }),
      );
      results.push({
        type: "tool_result",
        tool_use_id: use.id,
        content: outcome.blocks ?? outcome.content,
        ...(outcome.status === "succeeded" ? {} : { is_error: true }),
      });
    }
    // The model API receives the results as a user turn; the next call, if the limit allows
    // one, holds in the statement that stores them.
    appendTurn(transcript, "user", results);
    fitted = fitNext();
    toolRounds++;
    const another = toolRounds < spec.limits.maxToolIterations;
    added.push(await store.appendToolResults(results, another ? callHold(spec, fitted, deadline) : null));
    if (signal.aborted) {
      abortStop();
      break;
    }
    if (!another) stopReason = "max_tool_iterations";
  }

  const status = failure ? "failed" : cancelled ? "cancelled" : "succeeded";
  const run = await store.finish(
    { status, stopReason, error: failure ? `${failure.code}: ${failure.detail}` : null },
    totals,
    unstoredUsage,
  );
  if (failure) emit({ type: "error", code: failure.code, detail: failure.detail });
  emit({ type: "done", status: run.status, stopReason: run.stopReason, output });
  return { run, output, messages: added, error: failure };
}

/**
 * Every tool_use needs a tool_result in the next turn, or the provider rejects the
 * conversation's next request: calls a run will not make get an error result saying so.
 */
async function answerUnrun(
  store: RunStore,
  added: Message[],
  transcript: Anthropic.MessageParam[],
  calls: Anthropic.ToolUseBlock[],
  why: string,
): Promise<void> {
  if (calls.length === 0) return;
  const results = calls.map((call) => ({
    type: "tool_result",
    tool_use_id: call.id,
    content: JSON.stringify({ error: why }),
    is_error: true,
  }));
  added.push(await store.appendToolResults(results, null));
  appendTurn(transcript, "user", results);
}

/**
 * Counts one model call's usage and cost into the run's totals and publishes it; returns the
 * call's usage events for the transaction that stores the call.
 */
function recordUsage(
  deps: EngineDeps,
  totals: Totals,
  call: number,
  raw: Anthropic.Usage | undefined,
): TokenUsage & { costMicroUsd: number; events: UsageEvent[] } {
  const { spec } = deps;
  const usage = usageOf(raw);
  const cost = spec.price ? costMicroUsd(spec.price, usage) : 0;
  totals.modelCalls++;
  totals.add(usage, cost);
  deps.emit({ type: "usage", call, ...usage, costMicroUsd: cost });
  const events = modelCallEvents({
    runId: spec.runId,
    call,
    agentId: spec.agentId,
    model: spec.model,
    actor: spec.actor,
    price: spec.price,
    usage,
    cost,
  });
  return { ...usage, costMicroUsd: cost, events };
}

type CallOutcome = Omit<ToolOutcome, "status"> & {
  status: "succeeded" | "failed" | "denied" | "cancelled";
  startedAt: number;
};

async function runToolCall(
  deps: EngineDeps,
  resolved: RunnableTool | undefined,
  use: Anthropic.ToolUseBlock,
  decision: ApprovalDecision | undefined,
  signal: AbortSignal,
): Promise<CallOutcome> {
  const startedAt = Date.now();
  const finished = (outcome: Omit<CallOutcome, "startedAt">): CallOutcome => {
    deps.emit({
      type: "tool_call_finished",
      toolUseId: use.id,
      name: use.name,
      status: outcome.status,
      durationMs: outcome.durationMs,
      truncated: outcome.truncated,
    });
    return { ...outcome, startedAt };
  };
  deps.emit({ type: "tool_call_started", toolUseId: use.id, name: use.name, input: use.input });
  if (!resolved) {
    const content = JSON.stringify({ error: `unknown tool: ${use.name}` });
    return finished({ status: "failed", content, truncated: false, durationMs: 0 });
  }
  if (resolved.requiresApproval && decision?.decision !== "approved") {
    const why = decision?.reason ? `: ${decision.reason}` : "";
    const content = JSON.stringify({ error: `a reviewer denied this call${why}` });
    return finished({ status: "denied", content, truncated: false, durationMs: 0 });
  }
  if (signal.aborted) {
    const content = JSON.stringify({ error: "the run was stopped before this call" });
    return finished({ status: "cancelled", content, truncated: false, durationMs: 0 });
  }
  const outcome = await resolved.call(use.input, {
    signal,
    maxOutputBytes: deps.spec.limits.maxToolOutputBytes,
    toolUseId: use.id,
  });
  return finished(outcome);
}
