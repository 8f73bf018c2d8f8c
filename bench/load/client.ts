/**
 * The driver's HTTP side: one timed request at a time per virtual user, inside a phase that
 * ends at a deadline or when its request budget is spent.
 */
import type { ScenarioName } from "./options.ts";
import type { Outcome, Sample } from "./plan.ts";

/** A deadline and a request budget shared by every virtual user of one phase. */
export class Phase {
  private remaining: number;
  readonly samples: Sample[] = [];

  constructor(
    readonly deadline: number,
    maxRequests: number,
    readonly timeoutMs: number,
  ) {
    this.remaining = maxRequests;
  }

  /** Whether another request may start; takes it from the budget if so. */
  take(): boolean {
    if (performance.now() >= this.deadline || this.remaining <= 0) return false;
    this.remaining--;
    return true;
  }

  get over(): boolean {
    return performance.now() >= this.deadline || this.remaining <= 0;
  }
}

export interface Answer {
  status: number;
  outcome: Outcome;
  body: unknown;
}

/** `429 credential`, `429 tenant`, `429 maxConcurrentExecutions`...: which limit refused. */
function refusedBy(body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail !== "string") return "429";
  const which = /Rate limit "(\w+)"/.exec(detail)?.[1] ?? /\((max\w+)\)/.exec(detail)?.[1];
  return which ? `429 ${which}` : "429";
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/**
 * Sends one request as `authorization` and records it in `phase`. The clock (monotonic
 * `performance.now()`) starts just before `fetch()` and stops once the whole body is read;
 * parsing the body comes after. `check` turns a 2xx that did not do its job into an error
 * outcome (e.g. `200 run failed`).
 *
 * @returns the answer, or undefined when the phase is over (nothing was sent).
 */
export async function send(
  phase: Phase,
  base: string,
  authorization: string,
  call: {
    scenario: ScenarioName;
    operation: string;
    method: string;
    path: string;
    body?: unknown;
    check?: (body: unknown) => Outcome | undefined;
  },
): Promise<Answer | undefined> {
  if (!phase.take()) return undefined;
  const headers: Record<string, string> = { authorization };
  if (call.body !== undefined) headers["content-type"] = "application/json";
  const started = performance.now();
  let status = 0;
  let text = "";
  let failure: Outcome | undefined;
  try {
    const res = await fetch(`${base}${call.path}`, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(phase.timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    failure = name === "TimeoutError" || name === "AbortError" ? "timeout" : "network";
  }
  const ms = performance.now() - started;
  const body = parse(text);
  let outcome: Outcome;
  if (failure) outcome = failure;
  else if (status === 429) outcome = refusedBy(body);
  else if (status >= 200 && status < 300) outcome = call.check?.(body) ?? "ok";
  else outcome = String(status);
  phase.samples.push({ scenario: call.scenario, operation: call.operation, ms, outcome });
  return { status, outcome, body };
}
