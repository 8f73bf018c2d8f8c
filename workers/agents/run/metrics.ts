import type { Telemetry } from "../../lib/telemetry";
import type { RunnableTool } from "../tools/run-tools";
import type { RunEvent } from "./events";

/**
 * Turns a run's events into metrics: model calls, tokens and cost by model, tool calls by kind,
 * and the run's end with its duration. The events are what the run journals anyway, so the
 * figures and the event stream a client sees cannot disagree.
 *
 * MCP tool calls are counted where every MCP call is recorded (mcp/server/execute.ts's
 * recordCall), whoever makes them; here only those that never got there (denied by a reviewer).
 */
export function runMetrics(
  telemetry: Telemetry,
  model: string,
  tools: ReadonlyMap<string, RunnableTool>,
): (event: RunEvent) => void {
  let started = performance.now();
  return (event) => {
    switch (event.type) {
      case "run_started":
        started = performance.now();
        return;
      case "usage":
        telemetry.counter("meridian_model_calls_total", 1, { model, outcome: "ok" });
        telemetry.counter("meridian_model_tokens_total", event.inputTokens, { model, kind: "input" });
        telemetry.counter("meridian_model_tokens_total", event.outputTokens, { model, kind: "output" });
        telemetry.counter("meridian_model_tokens_total", event.cacheCreationInputTokens, {
          model,
          kind: "cache_write",
        });
        telemetry.counter("meridian_model_tokens_total", event.cacheReadInputTokens, {
          model,
          kind: "cache_read",
        });
        telemetry.counter("meridian_model_cost_usd_total", event.costMicroUsd / 1_000_000, { model });
        return;
      case "model_retry":
        telemetry.counter("meridian_model_calls_total", 1, { model, outcome: "retried" });
        return;
      case "error":
        telemetry.counter("meridian_model_calls_total", 1, { model, outcome: "error" });
        return;
      case "tool_call_finished": {
        const kind = tools.get(event.name)?.kind ?? "unknown";
        if (kind === "mcp" && event.status !== "denied") return;
        telemetry.counter("meridian_tool_calls_total", 1, { type: kind, outcome: toolOutcome(event.status) });
        return;
      }
      case "done":
        telemetry.counter("meridian_agent_runs_total", 1, { model, status: event.status });
        telemetry.histogram("meridian_agent_run_duration_seconds", (performance.now() - started) / 1000, {
          model,
        });
        return;
    }
  };
}

/** A tool call's status as the metric's outcome: ok, error, denied or cancelled. */
function toolOutcome(status: "succeeded" | "failed" | "denied" | "cancelled"): string {
  return status === "succeeded" ? "ok" : status === "failed" ? "error" : status;
}
