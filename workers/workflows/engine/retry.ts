import type { RetryPolicy } from "../definition/schema";
import type { StepFailure } from "./spec";

/** The policy of a step that names none: one attempt. */
export const NO_RETRY: RetryPolicy = {
  maxAttempts: 1,
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 300_000,
  jitter: 0.2,
  retryOn: ["any"],
};

/** Whether attempt `attempt` (1-based) that failed with `failure` gets another. */
export function shouldRetry(policy: RetryPolicy, failure: StepFailure, attempt: number): boolean {
  if (!failure.retryable || attempt >= policy.maxAttempts) return false;
  return policy.retryOn.includes("any") || (policy.retryOn as string[]).includes(failure.kind);
}

/**
 * Delay before the attempt after `attempt`: exponential from `initialDelayMs`, capped at
 * `maxDelayMs`, less a random share of up to `jitter` so many executions failing together do
 * not retry together.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (attempt - 1));
  return Math.round(base * (1 - policy.jitter * random()));
}
