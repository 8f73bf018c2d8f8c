import { newId } from "../../lib/ids";
import { traceStep } from "../../observability/tracing/object-spans";
import type { ApprovalStep, ConditionalStep, ParallelStep, Step } from "../definition/schema";
import { evaluateCondition } from "../language/conditions";
import type { ExpressionContext } from "../language/context";
import { ExpressionError } from "../language/errors";
import { renderString, resolveValue } from "../language/template";
import { NO_RETRY, retryDelayMs, shouldRetry } from "./retry";
import type { ExecutionSpec, StepFailure, WorkflowEvent } from "./spec";
import { type StepContext, StepError } from "./steps/context";
import { executeStep } from "./steps/execute";
import type { ExecutionStore, StepRecord } from "./store";

/** How a list of steps (the whole flow, or one branch) ended this pass. */
export type FlowResult =
  | { kind: "done"; output: unknown }
  /** Nothing more can run until a retry's time comes or an approval arrives. */
  | { kind: "waiting" }
  | { kind: "failed"; failure: StepFailure; stepId: string }
  /** Cancelled, timed out, or a parallel branch that lost. */
  | { kind: "stopped" };

type StepResult =
  | { kind: "succeeded"; output: unknown; next: string | null }
  | Exclude<FlowResult, { kind: "done" }>;

export interface InterpreterHost {
  store: ExecutionStore;
  emit(event: WorkflowEvent): void;
  /** A step attempt changed; its record goes to PostgreSQL behind the object's own storage. */
  noteAttempt(record: StepRecord): void;
  /** The context a step's executor runs with, minus what the interpreter fills in. */
  stepContext(
    base: Pick<StepContext, "stepId" | "attempt" | "recordId" | "idempotencyKey" | "signal">,
  ): StepContext;
  now(): number;
}

/** Default wall time of one attempt, by step type, when the step names none. */
const DEFAULT_TIMEOUT_SECONDS: Partial<Record<Step["type"], number>> = {
  agent: 900,
  mcp_tool: 60,
  http: 30,
};

/**
 * Interprets a definition by replay: every pass walks the flow from the start, and a step
 * whose completion is recorded is not run again but answers with its recorded output (a
 * conditional with its recorded choice). So an object evicted or redeployed anywhere resumes
 * by walking again, and only steps with no recorded end run. A step recorded `running` was
 * cut off mid-attempt: it runs that same attempt again, with the same idempotency key.
 */
export class Interpreter {
  /** Outputs of the steps that have succeeded, for templates. */
  private readonly outputs = new Map<string, unknown>();

  constructor(
    private readonly host: InterpreterHost,
    private readonly spec: ExecutionSpec,
  ) {
    for (const record of host.store.steps()) {
      if (record.status === "succeeded") this.outputs.set(record.stepId, record.output);
    }
  }

  run(signal: AbortSignal): Promise<FlowResult> {
    return this.runList(this.spec.definition.steps, signal);
  }

  /** The context templates and conditions see now. */
  context(): ExpressionContext {
    const steps: ExpressionContext["steps"] = {};
    for (const [id, output] of this.outputs) steps[id] = { output, status: "succeeded" };
    return { input: this.spec.input, steps, env: this.spec.env };
  }

  private async runList(list: Step[], signal: AbortSignal): Promise<FlowResult> {
    let index = 0;
    let last: unknown = null;
    while (index < list.length) {
      if (signal.aborted) return { kind: "stopped" };
      const step = list[index] as Step;
      const result = await this.runStep(step, signal);
      if (result.kind !== "succeeded") return result;
      last = result.output;
      const next = result.next ?? step.next ?? list[index + 1]?.id ?? "end";
      if (next === "end") break;
      index = list.findIndex((s) => s.id === next);
      if (index < 0) throw new Error(`step ${step.id}: next step ${next} is not in its list`);
    }
    return { kind: "done", output: last };
  }

  private async runStep(step: Step, signal: AbortSignal): Promise<StepResult> {
    const record = this.host.store.step(step.id);
    switch (record?.status) {
      case "succeeded":
        return { kind: "succeeded", output: record.output, next: record.next };
      case "failed":
        return { kind: "failed", failure: record.error ?? unknownFailure, stepId: step.id };
      case "cancelled":
        return { kind: "stopped" };
    }
    if (step.type === "parallel") return this.runParallel(step, record, signal);
    if (step.type === "wait_for_approval") return this.awaitApproval(step, record);
    if (record?.status === "waiting" && (record.wakeAt ?? 0) > this.host.now()) return { kind: "waiting" };
    // Recorded running: the object stopped mid-attempt; that attempt runs again, same key.
    const replay = record?.status === "running";
    const attempt = record ? (replay ? record.attempt : record.attempt + 1) : 1;
    return this.attempt(step, attempt, replay && record ? record.recordId : newId(), signal);
  }

  private async attempt(
    step: Step,
    attempt: number,
    recordId: string,
    signal: AbortSignal,
  ): Promise<StepResult> {
    const startedAt = this.host.now();
    const replayed = this.host.store.step(step.id);
    const record: StepRecord = {
      stepId: step.id,
      stepType: step.type,
      status: "running",
      attempt,
      recordId,
      // A replayed attempt keeps its place.
      sequence: replayed?.recordId === recordId ? replayed.sequence : this.host.store.nextSequence(),
      input: null,
      output: null,
      error: null,
      startedAt,
      finishedAt: null,
      wakeAt: null,
      next: null,
    };
    let input: unknown;
    try {
      input = this.resolveInput(step);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      return this.fail(record, { kind: "expression", message: error.message, retryable: false });
    }
    record.input = step.type === "conditional" ? null : input;
    this.save(record);
    this.host.emit({ type: "step_started", stepId: step.id, stepType: step.type, attempt });

    const timeoutSeconds = step.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS[step.type];
    const controller = new AbortController();
    const stop = () => controller.abort(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    let timedOut = false;
    const timer =
      timeoutSeconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort(new Error("step timeout"));
          }, timeoutSeconds * 1000);
    try {
      const ctx = this.host.stepContext({
        stepId: step.id,
        attempt,
        recordId,
        idempotencyKey: `${this.spec.executionId}:${step.id}:${attempt}`,
        signal: controller.signal,
      });
      const execution = traceStep(ctx.config, this.spec, step, attempt, () => executeStep(step, input, ctx));
      const output = await raceAbort(execution, controller.signal);
      const next = step.type === "conditional" ? ((output as { next: string | null }).next ?? null) : null;
      const bytes = new TextEncoder().encode(JSON.stringify(output ?? null)).byteLength;
      if (bytes > this.spec.maxPayloadBytes) {
        return this.fail(record, {
          kind: "output_too_large",
          message: `the output is ${bytes} bytes; the limit is ${this.spec.maxPayloadBytes}`,
          retryable: false,
        });
      }
      return this.succeed(record, output ?? null, next);
    } catch (error) {
      if (signal.aborted) {
        this.save({ ...record, status: "cancelled", finishedAt: this.host.now() });
        this.host.emit({ type: "step_cancelled", stepId: step.id, attempt });
        return { kind: "stopped" };
      }
      const failure: StepFailure = timedOut
        ? { kind: "timeout", message: `no result within ${timeoutSeconds} s`, retryable: true }
        : toFailure(error);
      return this.fail(record, failure, step.retry ?? NO_RETRY);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      signal.removeEventListener("abort", stop);
    }
  }

  private resolveInput(step: Step): unknown {
    const ctx = this.context();
    const at = (field: string) => `steps.${step.id}.${field}`;
    switch (step.type) {
      case "agent":
        return renderString(step.message, ctx, at("message"));
      case "mcp_tool":
        return resolveValue(step.arguments, ctx, at("arguments"));
      case "http":
        return {
          method: step.method,
          url: renderString(step.url, ctx, at("url")),
          headers: Object.fromEntries(
            Object.entries(step.headers).map(([k, v]) => [k, renderString(v, ctx, at(`headers.${k}`))]),
          ),
          body: step.body === undefined ? undefined : resolveValue(step.body, ctx, at("body")),
        };
      case "transform":
        return resolveValue(step.output, ctx, at("output"));
      case "conditional":
        return choose(step, ctx);
      default:
        return null;
    }
  }

  private succeed(record: StepRecord, output: unknown, next: string | null): StepResult {
    const finishedAt = this.host.now();
    this.save({ ...record, status: "succeeded", output, next, finishedAt });
    this.outputs.set(record.stepId, output);
    this.host.emit({
      type: "step_succeeded",
      stepId: record.stepId,
      attempt: record.attempt,
      durationMs: finishedAt - (record.startedAt ?? finishedAt),
    });
    return { kind: "succeeded", output, next };
  }

  private fail(record: StepRecord, failure: StepFailure, policy = NO_RETRY): StepResult {
    const now = this.host.now();
    const retryAt = shouldRetry(policy, failure, record.attempt)
      ? now + retryDelayMs(policy, record.attempt)
      : null;
    this.save({
      ...record,
      status: retryAt === null ? "failed" : "waiting",
      error: failure,
      finishedAt: now,
      wakeAt: retryAt,
    });
    this.host.emit({
      type: "step_failed",
      stepId: record.stepId,
      attempt: record.attempt,
      error: failure.message,
      kind: failure.kind,
      retryAt: retryAt === null ? null : new Date(retryAt).toISOString(),
    });
    return retryAt === null ? { kind: "failed", failure, stepId: record.stepId } : { kind: "waiting" };
  }

  private save(record: StepRecord): void {
    this.host.store.saveStep(record);
    this.host.noteAttempt(record);
  }

  /**
   * A human's decision: the step waits (the pass ends) until `resume` records the payload as
   * its output, or until it expires.
   */
  private awaitApproval(step: ApprovalStep, record: StepRecord | undefined): StepResult {
    const now = this.host.now();
    if (!record) {
      let message: string | null = null;
      const waiting: StepRecord = {
        stepId: step.id,
        stepType: step.type,
        status: "waiting",
        attempt: 1,
        recordId: newId(),
        sequence: this.host.store.nextSequence(),
        input: null,
        output: null,
        error: null,
        startedAt: now,
        finishedAt: null,
        wakeAt: now + step.expiresInSeconds * 1000,
        next: null,
      };
      try {
        message =
          step.message === undefined
            ? null
            : renderString(step.message, this.context(), `steps.${step.id}.message`);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        return this.fail(waiting, { kind: "expression", message: error.message, retryable: false });
      }
      waiting.input = { message, schema: step.schema ?? null };
      this.save(waiting);
      this.host.emit({
        type: "approval_requested",
        stepId: step.id,
        message,
        expiresAt: new Date(waiting.wakeAt ?? now).toISOString(),
      });
      return { kind: "waiting" };
    }
    if ((record.wakeAt ?? 0) > now) return { kind: "waiting" };
    this.host.emit({ type: "approval_resolved", stepId: step.id, outcome: "expired" });
    if (step.onExpiry === "fail") {
      return this.fail(record, {
        kind: "approval_expired",
        message: "no decision before the approval expired",
        retryable: false,
      });
    }
    try {
      const output =
        step.expiryOutput === undefined
          ? null
          : resolveValue(step.expiryOutput, this.context(), `steps.${step.id}.expiryOutput`);
      return this.succeed({ ...record, status: "running" }, output, null);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      return this.fail(record, { kind: "expression", message: error.message, retryable: false });
    }
  }

  /**
   * Runs the branches side by side. The step succeeds once enough branches have succeeded
   * (all, any, or n of m; the others are stopped), and fails as soon as that has become
   * impossible (fail-fast, the default) or once every branch has ended (collecting each
   * branch's error). A branch left waiting keeps the step waiting.
   */
  private async runParallel(
    step: ParallelStep,
    existing: StepRecord | undefined,
    signal: AbortSignal,
  ): Promise<StepResult> {
    const record: StepRecord = existing ?? {
      stepId: step.id,
      stepType: step.type,
      status: "running",
      attempt: 1,
      recordId: newId(),
      sequence: this.host.store.nextSequence(),
      input: null,
      output: null,
      error: null,
      startedAt: this.host.now(),
      finishedAt: null,
      wakeAt: null,
      next: null,
    };
    if (!existing) {
      this.save(record);
      this.host.emit({ type: "step_started", stepId: step.id, stepType: step.type, attempt: 1 });
    } else if (existing.status === "waiting") {
      this.save({ ...existing, status: "running" });
    }
    const need = step.wait === "all" ? step.branches.length : step.wait === "any" ? 1 : (step.n ?? 1);
    const controller = new AbortController();
    const stop = () => controller.abort(signal.reason);
    signal.addEventListener("abort", stop, { once: true });

    const results = new Map<string, FlowResult>();
    const completed: string[] = [];
    let decided: StepResult | undefined;
    const decide = (): StepResult | undefined => {
      const all = [...results.values()];
      const succeeded = all.filter((r) => r.kind === "done").length;
      const waiting = all.filter((r) => r.kind === "waiting").length;
      const open = step.branches.length - all.length;
      if (succeeded >= need) return this.succeed(record, this.parallelOutput(step, results, completed), null);
      const impossible = succeeded + open + waiting < need;
      // Collecting errors waits for every branch to end; fail-fast stops at once.
      if (impossible && (step.failFast || (open === 0 && waiting === 0))) {
        return this.fail(record, {
          kind: "branch_failed",
          message: branchFailures(results),
          retryable: false,
        });
      }
      return undefined;
    };

    try {
      await Promise.all(
        step.branches.map(async (branch) => {
          const result = await this.runList(branch.steps, controller.signal);
          if (decided) return;
          results.set(branch.id, result);
          if (result.kind === "done") completed.push(branch.id);
          decided = decide();
          if (decided) controller.abort(new Error("parallel step decided"));
        }),
      );
    } finally {
      signal.removeEventListener("abort", stop);
    }
    if (decided) return decided;
    if (signal.aborted) return { kind: "stopped" };
    // Every branch has ended or is waiting, and nothing is decided: wait for the rest.
    this.save({ ...record, status: "waiting" });
    return { kind: "waiting" };
  }

  private parallelOutput(step: ParallelStep, results: Map<string, FlowResult>, completed: string[]) {
    const branches: Record<string, unknown> = {};
    const errors: Record<string, string> = {};
    for (const branch of step.branches) {
      const result = results.get(branch.id);
      if (result?.kind === "done") branches[branch.id] = result.output;
      if (result?.kind === "failed") errors[branch.id] = `${result.stepId}: ${result.failure.message}`;
    }
    return { branches, errors, completed };
  }
}

const unknownFailure: StepFailure = { kind: "unknown", message: "the step failed", retryable: false };

function toFailure(error: unknown): StepFailure {
  if (error instanceof StepError)
    return { kind: error.kind, message: error.message, retryable: error.retryable };
  if (error instanceof ExpressionError)
    return { kind: "expression", message: error.message, retryable: false };
  return {
    kind: "internal",
    message: error instanceof Error ? error.message : String(error),
    retryable: true,
  };
}

function branchFailures(results: Map<string, FlowResult>): string {
  const parts: string[] = [];
  for (const [branch, result] of results) {
    if (result.kind === "failed") parts.push(`${branch} (${result.stepId}): ${result.failure.message}`);
  }
  return parts.length > 0 ? `branches failed: ${parts.join("; ")}` : "not enough branches succeeded";
}

/** A conditional's choice: the first branch that holds, else its default (else the next step). */
function choose(
  step: ConditionalStep,
  ctx: ExpressionContext,
): { matched: number | null; next: string | null } {
  const matched = step.branches.findIndex((b) => evaluateCondition(b.when, ctx));
  if (matched >= 0) return { matched, next: step.branches[matched]?.next ?? null };
  return { matched: null, next: step.default ?? null };
}

/** Settles with `work`, or rejects as soon as `signal` aborts (work that ignores it is left behind). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
