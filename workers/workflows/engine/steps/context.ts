import type { TenantDb } from "../../../../db/tenant";
import type { Config, Env } from "../../../env";
import type { ExecutionSpec, StepFailure } from "../spec";

/** What a step's executor gets besides its resolved input. */
export interface StepContext {
  spec: ExecutionSpec;
  env: Env;
  config: Config;
  stepId: string;
  attempt: number;
  /** This attempt's `workflow_step_executions` id. */
  recordId: string;
  /**
   * Sent with the step's side effects (the `Idempotency-Key` of an http step, the agent run's
   * key): the same for a replay of the same attempt, new for the next attempt.
   */
  idempotencyKey: string;
  /** Aborted by a timeout, a cancel, or a parallel branch that lost. */
  signal: AbortSignal;
  /** One tenant transaction on the execution's database connection. */
  inTenant<T>(fn: (db: TenantDb) => Promise<T>): Promise<T>;
  /** Writes the execution's pending records to PostgreSQL now (rows about to reference them). */
  flushRecords(): Promise<void>;
}

/** A step's failure, with the kind a retry policy names. */
export class StepError extends Error implements StepFailure {
  constructor(
    readonly kind: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "StepError";
  }
}
