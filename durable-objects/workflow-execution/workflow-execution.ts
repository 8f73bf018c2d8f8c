import { DurableObject } from "cloudflare:workers";
import { type Env, parseConfig } from "../../workers/env";
import { newLogger } from "../../workers/lib/logger";
import type { Telemetry } from "../../workers/lib/telemetry";
import { reportError } from "../../workers/observability/errors/report";
import { telemetryFor } from "../../workers/observability/telemetry";
import { checkApproval } from "../../workers/workflows/engine/approval";
import { inTenant } from "../../workers/workflows/engine/database";
import { findStep } from "../../workers/workflows/engine/find-step";
import { Interpreter, type InterpreterHost } from "../../workers/workflows/engine/interpreter";
import { recordExecutionEnd, recordStepAttempt } from "../../workers/workflows/engine/metrics";
import { ExecutionRecords } from "../../workers/workflows/engine/records";
import { Semaphore } from "../../workers/workflows/engine/semaphore";
import type { ExecutionSpec, ExecutionStatus, WorkflowEvent } from "../../workers/workflows/engine/spec";
import { type ExecutionState, ExecutionStore, type StepRecord } from "../../workers/workflows/engine/store";
import { ExpressionError } from "../../workers/workflows/language/errors";
import { resolveValue } from "../../workers/workflows/language/template";
import { EventJournal } from "../event-journal";

/** While steps are running the object wakes this often, so the runtime keeps it in memory. */
const KEEPALIVE_MS = 30_000;
/** An execution whose definition names no `timeoutSeconds` may take this long (approvals wait days). */
const DEFAULT_TIMEOUT_SECONDS = 7 * 86_400;
/** Steps of one execution inside a database transaction at once; the rest queue. */
const DATABASE_SLOTS = 4;
/** A finished execution whose records could not be written retries this often. */
const RECORDS_RETRY_MS = 5_000;
/** How long `cancel` waits for running steps to stop before it answers. */
const CANCEL_WAIT_MS = 5_000;

const ENDED: readonly ExecutionStatus[] = ["succeeded", "failed", "cancelled"];

export type CancelResult = "cancelled" | "finished" | "not_started";
export type ResumeResult =
  | { resumed: true }
  | { error: "not_started" | "finished" | "unknown_step" | "not_an_approval" | "not_waiting" }
  | { error: "invalid_payload"; issues: { path: string; message: string }[] };

/**
 * One workflow execution, named `<tenant>:<execution>`. Its SQLite storage holds the spec, the
 * state of every step and the event journal; the interpreter (workers/workflows/engine) walks
 * the flow by replay, so whenever this object starts again (eviction, deploy, crash) the next
 * wake-up walks again and only unfinished steps run. Alarms drive retries, approval expiry,
 * the execution deadline and the keep-alive. PostgreSQL gets a copy for queries.
 */
export class WorkflowExecution extends DurableObject<Env> {
  private readonly store: ExecutionStore;
  private readonly journal: EventJournal<WorkflowEvent>;
  private records: ExecutionRecords | undefined;
  private driving: Promise<void> | undefined;
  private passAgain = false;
  private readonly abort = new AbortController();
  private timedOut = false;
  private readonly databaseSlots = new Semaphore(DATABASE_SLOTS);
  private readonly logger;
  private readonly telemetry: Telemetry;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ExecutionStore(ctx.storage.sql);
    this.journal = new EventJournal<WorkflowEvent>(ctx.storage.sql, () => undefined);
    this.logger = newLogger(parseConfig(env).LOG_LEVEL, { object: "workflow_execution" });
    this.telemetry = telemetryFor(parseConfig(env));
  }

  /** Starts the execution, or (a retried start, or a restarted object) carries on with it. */
  async start(spec: ExecutionSpec): Promise<{ started: boolean }> {
    if (this.store.spec()) {
      if (this.active() && !this.driving) this.drive();
      return { started: false };
    }
    const now = Date.now();
    const state: ExecutionState = {
      status: "running",
      output: null,
      error: null,
      startedAt: now,
      finishedAt: null,
      deadlineAt: now + (spec.definition.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    };
    this.store.begin(spec, state);
    this.journal.append({
      type: "execution_started",
      executionId: spec.executionId,
      workflowId: spec.workflowId,
      version: spec.version,
    });
    this.recordsOf(spec).noteExecution(state);
    this.drive();
    await this.scheduleWake();
    return { started: true };
  }

  /** Stops the execution: running steps are aborted, nothing new starts. */
  async cancel(): Promise<CancelResult> {
    const state = this.store.state();
    if (!state) return "not_started";
    if (ENDED.includes(state.status)) return "finished";
    this.store.updateState({ status: "cancelled", error: "cancelled" });
    this.abort.abort(new Error("cancelled"));
    const driving = this.driving;
    if (driving) {
      await Promise.race([driving, new Promise((resolve) => setTimeout(resolve, CANCEL_WAIT_MS))]);
    } else {
      await this.finish("cancelled", null, "cancelled");
    }
    return "cancelled";
  }

  /** Records a human's decision on a waiting approval step and carries on. */
  async resume(stepId: string, payload: unknown): Promise<ResumeResult> {
    const spec = this.store.spec();
    const state = this.store.state();
    if (!spec || !state) return { error: "not_started" };
    if (ENDED.includes(state.status)) return { error: "finished" };
    const step = findStep(spec.definition.steps, stepId);
    if (!step) return { error: "unknown_step" };
    if (step.type !== "wait_for_approval") return { error: "not_an_approval" };
    const record = this.store.step(stepId);
    if (record?.status !== "waiting") return { error: "not_waiting" };
    const issues = checkApproval(step, payload, spec.maxPayloadBytes);
    if (issues.length > 0) return { error: "invalid_payload", issues };

    const resolved = {
      ...record,
      status: "succeeded" as const,
      output: payload,
      finishedAt: Date.now(),
      wakeAt: null,
    };
    this.store.saveStep(resolved);
    this.noteAttempt(this.recordsOf(spec), resolved);
    this.journal.append({ type: "approval_resolved", stepId, outcome: "approved" });
    this.drive();
    await this.scheduleWake();
    return { resumed: true };
  }

  /** Waits until PostgreSQL's copy has caught up with everything recorded here so far. */
  async flush(): Promise<void> {
    const spec = this.store.spec();
    if (spec) await this.recordsOf(spec).flush();
  }

  /**
   * Forgets the execution for good (its tenant is being erased): a pass in progress is aborted
   * and awaited, then the spec, the step states, the journal and the alarm go.
   */
  async erase(): Promise<void> {
    this.abort.abort(new Error("tenant erased"));
    await this.driving;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** The execution's events as server-sent events, after `Last-Event-ID` when the client sends one. */
  override async fetch(request: Request): Promise<Response> {
    const after = Number.parseInt(request.headers.get("last-event-id") ?? "0", 10);
    return this.journal.stream(Number.isFinite(after) && after > 0 ? after : 0, crypto.randomUUID());
  }

  override async alarm(): Promise<void> {
    const state = this.store.state();
    if (!state) return;
    if (ENDED.includes(state.status)) {
      if (this.recordsOf(this.store.spec() as ExecutionSpec).behind) await this.flushFinished();
      return;
    }
    if (Date.now() >= state.deadlineAt) {
      this.timedOut = true;
      this.abort.abort(new Error("execution timeout"));
      if (!this.driving)
        await this.finish("failed", null, "timeout: the execution ran past its timeoutSeconds");
      return;
    }
    // After a restart nothing is in memory: walking the flow again resumes it.
    if (!this.driving) this.drive();
    await this.scheduleWake();
  }

  private active(): boolean {
    const state = this.store.state();
    return state !== undefined && !ENDED.includes(state.status);
  }

  /** Runs passes until one ends with nothing new to do. */
  private drive(): void {
    if (this.driving) {
      this.passAgain = true;
      return;
    }
    this.driving = (async () => {
      do {
        this.passAgain = false;
        await this.pass();
      } while (this.passAgain && this.active());
    })()
      .catch((error: unknown) => {
        this.logger.error("workflow pass failed", {
          error: error instanceof Error ? error.message : String(error),
        });
        const spec = this.store.spec();
        this.ctx.waitUntil(
          reportError(this.env, error, {
            source: "workflow",
            tenantId: spec?.tenantId,
            executionId: spec?.executionId,
          }),
        );
      })
      .finally(() => {
        this.driving = undefined;
        this.ctx.waitUntil(this.telemetry.flush());
        void this.scheduleWake();
      });
  }

  private async pass(): Promise<void> {
    const spec = this.store.spec();
    if (!spec || !this.active()) return;
    const interpreter = new Interpreter(this.host(spec), spec);
    const result = await interpreter.run(this.abort.signal);
    const state = this.store.state();
    if (!state) return;
    if (state.status === "cancelled") return this.finish("cancelled", null, "cancelled");
    switch (result.kind) {
      case "done": {
        let output = result.output;
        try {
          if (spec.definition.output !== undefined)
            output = resolveValue(spec.definition.output, interpreter.context(), "output");
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
          return this.finish("failed", null, `output: ${error.message}`);
        }
        return this.finish("succeeded", output, null);
      }
      case "failed":
        return this.finish(
          "failed",
          null,
          `${result.stepId}: ${result.failure.kind}: ${result.failure.message}`,
        );
      case "stopped":
        if (this.timedOut)
          return this.finish("failed", null, "timeout: the execution ran past its timeoutSeconds");
        return;
      case "waiting": {
        const approval = this.store
          .steps()
          .some((s) => s.status === "waiting" && s.stepType === "wait_for_approval");
        const status: ExecutionStatus = approval ? "waiting" : "running";
        if (state.status !== status) this.recordsOf(spec).noteExecution(this.store.updateState({ status }));
        const until = this.store.nextWake();
        this.journal.append({
          type: "execution_waiting",
          until: until === null ? null : new Date(until).toISOString(),
        });
        return;
      }
    }
  }

  private async finish(
    status: "succeeded" | "failed" | "cancelled",
    output: unknown,
    error: string | null,
  ): Promise<void> {
    const spec = this.store.spec();
    if (!spec) return;
    const records = this.recordsOf(spec);
    const now = Date.now();
    // Nothing can run any more: steps still in progress or waiting end with the execution.
    for (const step of this.store.steps()) {
      if (step.status === "running" || step.status === "waiting") {
        const cancelled = { ...step, status: "cancelled" as const, finishedAt: now, wakeAt: null };
        this.store.saveStep(cancelled);
        this.noteAttempt(records, cancelled);
      }
    }
    const state = this.store.updateState({ status, output, error, finishedAt: now });
    records.noteExecution(state);
    this.journal.append({ type: "done", status, error });
    recordExecutionEnd(this.telemetry, status, this.timedOut);
    this.ctx.waitUntil(this.telemetry.flush());
    await this.flushFinished();
  }

  /** An attempt for PostgreSQL's copy, and its duration for the metrics once it has ended. */
  private noteAttempt(records: ExecutionRecords, record: StepRecord): void {
    records.noteAttempt(record);
    recordStepAttempt(this.telemetry, record);
  }

  private async flushFinished(): Promise<void> {
    const spec = this.store.spec();
    if (!spec) return;
    try {
      await this.recordsOf(spec).flush();
    } catch (error) {
      this.logger.warn("workflow records not written; retrying", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    await this.scheduleWake();
  }

  /** The next alarm: the nearest retry, approval expiry, deadline or keep-alive. */
  private async scheduleWake(): Promise<void> {
    const state = this.store.state();
    if (!state) return;
    const now = Date.now();
    if (ENDED.includes(state.status)) {
      const spec = this.store.spec();
      if (spec && this.recordsOf(spec).behind) await this.ctx.storage.setAlarm(now + RECORDS_RETRY_MS);
      else await this.ctx.storage.deleteAlarm();
      return;
    }
    const candidates = [state.deadlineAt];
    const wake = this.store.nextWake();
    if (wake !== null) candidates.push(wake);
    if (this.driving) candidates.push(now + KEEPALIVE_MS);
    await this.ctx.storage.setAlarm(Math.max(now + 1, Math.min(...candidates)));
  }

  private recordsOf(spec: ExecutionSpec): ExecutionRecords {
    this.records ??= new ExecutionRecords(
      this.ctx.storage.sql,
      parseConfig(this.env),
      spec.tenantId,
      spec.executionId,
      spec.actor,
      (error) => {
        // A later flush retries; the object's own storage is the truth meanwhile.
        this.logger.warn("workflow records behind", {
          error: error instanceof Error ? error.message : String(error),
        });
      },
    );
    return this.records;
  }

  private host(spec: ExecutionSpec): InterpreterHost {
    const config = parseConfig(this.env);
    const records = this.recordsOf(spec);
    return {
      store: this.store,
      emit: (event) => this.journal.append(event),
      noteAttempt: (record) => this.noteAttempt(records, record),
      now: () => Date.now(),
      stepContext: (base) => ({
        ...base,
        spec,
        env: this.env,
        config,
        inTenant: (fn) => this.databaseSlots.run(() => inTenant(config, spec.tenantId, fn)),
        flushRecords: () => records.flush(),
      }),
    };
  }
}
