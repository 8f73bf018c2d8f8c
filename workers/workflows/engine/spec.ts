import type { RunActor } from "../../agents/run/spec";
import type { WorkflowDefinition } from "../definition/schema";

/**
 * Everything an execution needs, fixed when it starts and kept in its Durable Object: the
 * pinned definition, the input, the tenant's named settings and who started it. Plain JSON.
 */
export interface ExecutionSpec {
  tenantId: string;
  executionId: string;
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  input: unknown;
  /** The tenant's named settings when the execution started (`{{env.NAME}}`). */
  env: Record<string, unknown>;
  /** Its agent and tool steps act with this role. */
  actor: RunActor;
  /** The user or API key that started it; null for the platform admin. */
  createdBy: string | null;
  /** Most bytes of one step's output (the limits model's `maxWorkflowPayloadBytes`). */
  maxPayloadBytes: number;
  /** Extra headers for model calls (the local model server's `x-model-scenario`). */
  providerHeaders: Record<string, string>;
  /** W3C trace context of the request that started it: its steps' spans join that trace. */
  traceparent?: string | undefined;
}

/** Where an execution is. `waiting`: nothing can run until an approval or a retry's time comes. */
export type ExecutionStatus = "pending" | "running" | "waiting" | "succeeded" | "failed" | "cancelled";

export type StepStatus =
  | "running"
  /** A human's approval, or the next attempt after a retryable failure. */
  | "waiting"
  | "succeeded"
  | "failed"
  | "cancelled";

/** What a step failed with. `kind` is what retry policies name; `retryable` whether they may. */
export interface StepFailure {
  kind: string;
  message: string;
  retryable: boolean;
}

/** The events of an execution's stream, in order (docs/workflows.md describes each). */
export type WorkflowEvent =
  | { type: "execution_started"; executionId: string; workflowId: string; version: number }
  | { type: "step_started"; stepId: string; stepType: string; attempt: number }
  | { type: "step_succeeded"; stepId: string; attempt: number; durationMs: number }
  | {
      type: "step_failed";
      stepId: string;
      attempt: number;
      error: string;
      kind: string;
      /** When the next attempt starts; null when the step has failed for good. */
      retryAt: string | null;
    }
  | { type: "approval_requested"; stepId: string; message: string | null; expiresAt: string }
  | { type: "approval_resolved"; stepId: string; outcome: "approved" | "expired" }
  | { type: "step_cancelled"; stepId: string; attempt: number }
  | { type: "execution_waiting"; until: string | null }
  | { type: "done"; status: "succeeded" | "failed" | "cancelled"; error: string | null };
