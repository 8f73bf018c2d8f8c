/**
 * What the seeding hands the load driver (a child process of its own), and what the driver
 * hands back: plain JSON both ways.
 */
import type { LoadOptions, ScenarioName } from "./options.ts";

/** One seeded tenant: what its virtual users call, and with which keys. */
export interface TenantPlan {
  slug: string;
  /** One `member` API key per virtual user of the tenant, as `Authorization` values. */
  keys: string[];
  agentId: string;
  collectionId: string;
  /** A workflow instantiated from the `research-then-summarise` template (two agent steps). */
  workflowId: string;
  /** Search queries on the topics of the tenant's documents. */
  queries: string[];
}

export interface DrivePlan {
  base: string;
  options: LoadOptions;
  tenants: TenantPlan[];
}

/**
 * How a request ended: `ok` for the answer the scenario expects; `429` for a rate-limit or
 * concurrency refusal; otherwise the HTTP status, `timeout`, `network`, or a 200 that did not
 * do its job (`200 run failed`).
 */
export type Outcome = string;

export interface Sample {
  scenario: ScenarioName;
  /** Method and route, ids left out: `POST /v1/agents/{id}/execute`. */
  operation: string;
  /** From just before `fetch()` until the whole body was read, in milliseconds. */
  ms: number;
  outcome: Outcome;
}

/** A workflow execution followed from its start until it ended (or the run did). */
export interface WorkflowRun {
  /** Start request sent → the poll that saw it ended, in milliseconds. */
  ms: number;
  /** `succeeded`, `failed`, `cancelled`, or `unfinished` when the run ended first. */
  status: string;
}

export interface DriveResult {
  samples: Sample[];
  workflows: WorkflowRun[];
  /** Wall time of the measured phase: its start until the last request finished, in milliseconds. */
  elapsedMs: number;
  /** How late the driver's timers fired during the measured phase, in milliseconds: time its own
   * CPU work added to the figures it took. */
  loopDelay: { p50: number; p99: number; max: number };
  /** CPU the driver process used during the measured phase, in milliseconds. */
  cpuMs: number;
}

/** What the driver sends: `measuring` as the measured phase starts, then its result. */
export type DriverMessage = { kind: "measuring" } | { kind: "result"; result: DriveResult };
