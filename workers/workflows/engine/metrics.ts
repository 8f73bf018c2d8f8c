import type { Telemetry } from "../../lib/telemetry";
import type { StepRecord } from "./store";

/**
 * One step attempt's duration, by step type and how it ended, once it has ended. A step
 * waiting for its retry counts as the failed attempt it is; one waiting for a human, or still
 * running, is not counted yet.
 */
export function recordStepAttempt(telemetry: Telemetry, record: StepRecord): void {
  if (record.startedAt === null || record.finishedAt === null) return;
  const status = record.status === "waiting" ? (record.error ? "failed" : null) : record.status;
  if (status === null || status === "running") return;
  telemetry.histogram(
    "meridian_workflow_step_duration_seconds",
    (record.finishedAt - record.startedAt) / 1000,
    {
      type: record.stepType,
      status,
    },
  );
}

/** An execution's end: succeeded, failed, cancelled, or timed_out (failed by its deadline). */
export function recordExecutionEnd(
  telemetry: Telemetry,
  status: "succeeded" | "failed" | "cancelled",
  timedOut: boolean,
): void {
  telemetry.counter("meridian_workflow_executions_total", 1, { status: timedOut ? "timed_out" : status });
}
