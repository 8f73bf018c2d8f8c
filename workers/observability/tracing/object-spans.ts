import type { RunSpec } from "../../agents/run/spec";
import type { Step } from "../../workflows/definition/schema";
import type { ExecutionSpec } from "../../workflows/engine/spec";
import { type TracingEnv, tracingSettings } from "./config";
import { loadTracing } from "./load";
import { entrySpan, SpanKind } from "./spans";

/**
 * Work a Durable Object does for a request that has long answered. No trace is active in the
 * object (otel-cf-workers instruments only `fetch` and `alarm` of an object, not RPC methods),
 * so the work's first span continues the `traceparent` the request left in the spec, and its
 * spans are exported when it ends.
 */
async function inObject<T>(
  config: TracingEnv,
  name: string,
  options: Parameters<typeof entrySpan>[1],
  fn: () => Promise<T>,
): Promise<T> {
  const settings = tracingSettings(config);
  if (!settings) return fn();
  const sdk = await loadTracing(settings);
  try {
    return await entrySpan(name, options, fn);
  } finally {
    // Not awaited: the export must not hold up the next step; the object outlives it.
    void sdk.flushSpans();
  }
}

/**
 * Runs one attempt of a workflow step in its span (`workflow.step <type>`), below the span of
 * the request that started the execution.
 */
export function traceStep<T>(
  config: TracingEnv,
  spec: ExecutionSpec,
  step: Pick<Step, "id" | "type">,
  attempt: number,
  fn: () => Promise<T>,
): Promise<T> {
  return inObject(
    config,
    `workflow.step ${step.type}`,
    {
      traceparent: spec.traceparent,
      attributes: {
        "meridian.tenant_id": spec.tenantId,
        "meridian.workflow.id": spec.workflowId,
        "meridian.workflow.execution_id": spec.executionId,
        "meridian.workflow.step_id": step.id,
        "meridian.workflow.step_type": step.type,
        "meridian.workflow.attempt": attempt,
      },
    },
    fn,
  );
}

/** Runs an agent run in its span (`agent.run`), below the span of whatever started it. */
export function traceAgentRun<T>(config: TracingEnv, spec: RunSpec, fn: () => Promise<T>): Promise<T> {
  return inObject(
    config,
    "agent.run",
    {
      kind: SpanKind.INTERNAL,
      traceparent: spec.traceparent,
      attributes: {
        "meridian.tenant_id": spec.tenantId,
        "meridian.run_id": spec.runId,
        "meridian.agent_id": spec.agentId,
        "meridian.run.mode": spec.mode,
        "gen_ai.request.model": spec.model,
      },
    },
    fn,
  );
}
