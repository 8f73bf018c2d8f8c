import type { RunActor } from "../agents/run/spec";
import { principalColumns } from "./model-call";
import type { UsageEvent } from "./record";

/**
 * The event of each workflow step whose final outcome is among `attempts` (it succeeded, or
 * failed with no retry left): one per step, whatever its attempts. The key names the execution
 * and the step, which is unique in a definition and, with no cycles allowed, runs to an end at
 * most once per execution; so a re-sent record (a restarted object's outbox) counts nothing twice.
 * A step cancelled with its execution, or still waiting for a retry, did not finish.
 */
export function workflowStepEvents(
  execution: { executionId: string; actor: RunActor },
  attempts: ReadonlyArray<{ stepId: string; ended: boolean }>,
): UsageEvent[] {
  return attempts
    .filter((attempt) => attempt.ended)
    .map((attempt) => ({
      eventKey: `workflow_step:${execution.executionId}:${attempt.stepId}:workflow_steps`,
      meter: "workflow_steps",
      quantity: 1,
      unit: "steps",
      resourceType: "workflow_execution",
      resourceId: execution.executionId,
      ...principalColumns(execution.actor),
    }));
}
