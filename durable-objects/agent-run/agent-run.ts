import { DurableObject } from "cloudflare:workers";
import type { Client } from "@neondatabase/serverless";
import { connect } from "../../db/client";
import { providerFor } from "../../workers/agents/provider";
import type { ApprovalDecision, PendingApproval } from "../../workers/agents/run/engine";
import { executeRun } from "../../workers/agents/run/engine";
import type { RunEvent } from "../../workers/agents/run/events";
import { runMetrics } from "../../workers/agents/run/metrics";
import { type RunSpec, type RunSummary, summarize } from "../../workers/agents/run/spec";
import { RunStore } from "../../workers/agents/run/store";
import { resolveRunTools } from "../../workers/agents/tools/run-tools";
import { type Env, parseConfig } from "../../workers/env";
import { newLogger } from "../../workers/lib/logger";
import { webhookPolicy } from "../../workers/lib/webhooks";
import { reportError } from "../../workers/observability/errors/report";
import { telemetryFor } from "../../workers/observability/telemetry";
import { traceAgentRun } from "../../workers/observability/tracing/object-spans";
import { EventJournal } from "../event-journal";

/** While a run is in progress the object wakes this often, so the runtime keeps it in memory. */
const KEEPALIVE_MS = 30_000;
/** How long a finished run's events stay for clients catching up; then storage is cleared. */
const RETENTION_MS = 60 * 60 * 1000;

type Phase = "running" | "finished";

/**
 * What the object keeps about its run (the spec itself, with the whole transcript, stays in
 * memory: it can outgrow a storage value, and a restarted object does not resume the run).
 */
type RunMeta = Pick<RunSpec, "tenantId" | "runId" | "conversationId" | "nextSequence" | "mode">;

interface ApprovalWait {
  pending: Map<string, PendingApproval>;
  decisions: Map<string, ApprovalDecision>;
  resolve(decisions: Map<string, ApprovalDecision>): void;
  reject(reason: unknown): void;
}

export type CancelResult = "cancelling" | "finished" | "not_started";
export type DecideResult = { decided: string[] } | { error: "no_pending_approval" | "unknown_tool_use" };

/**
 * One agent run, addressed by the run id. It executes the run (the engine in
 * workers/agents/run), journals every event in SQLite, serves them as server-sent events with
 * `Last-Event-ID` resume, and takes cancels and approval decisions. The request that started
 * the run may go away: the run continues here, and a streamed run no client reattaches to
 * within the grace period is cancelled (`client_disconnected`).
 *
 * If the runtime restarts the object mid-run, the in-memory run is gone: the next wake-up
 * records it as failed (`interrupted`) rather than leaving it running forever.
 */
export class AgentRun extends DurableObject<Env> {
  private readonly journal: EventJournal<RunEvent>;
  private driver: Promise<RunSummary> | undefined;
  private readonly abort = new AbortController();
  private stopReason = "cancelled";
  private approvals: ApprovalWait | undefined;
  /** A streamed run: one whose clients may go away and come back within the grace period. */
  private streamed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.journal = new EventJournal(ctx.storage.sql, () => void this.onDetached());
  }

  /** Starts the run unless it has started already (a retried or redelivered start is a no-op). */
  async start(spec: RunSpec): Promise<{ started: boolean }> {
    this.streamed = spec.mode === "stream";
    if (await this.ctx.storage.get<Phase>("phase")) return { started: false };
    const meta: RunMeta = {
      tenantId: spec.tenantId,
      runId: spec.runId,
      conversationId: spec.conversationId,
      nextSequence: spec.nextSequence,
      mode: spec.mode,
    };
    await this.ctx.storage.put({ phase: "running", meta });
    await this.ctx.storage.setAlarm(Date.now() + KEEPALIVE_MS);
    this.driver = traceAgentRun(this.env, spec, () => this.drive(spec));
    // Whoever waits sees the failure through result(); this keeps it from going unhandled.
    this.driver.catch(() => undefined);
    return { started: true };
  }

  /** Waits for the run to end. Undefined when this object never ran it (or forgot it). */
  async result(): Promise<RunSummary | undefined> {
    if (this.driver) return this.driver;
    if ((await this.ctx.storage.get<Phase>("phase")) === "running") await this.interrupted();
    return this.ctx.storage.get<RunSummary>("outcome");
  }

  /** Stops the run: the model call and pending tools are aborted and the run ends `cancelled`. */
  async cancel(reason = "cancelled"): Promise<CancelResult> {
    const phase = await this.ctx.storage.get<Phase>("phase");
    if (!phase) return "not_started";
    if (phase === "finished") return "finished";
    if (!this.driver) {
      await this.interrupted();
      return "finished";
    }
    this.stop(reason);
    return "cancelling";
  }

  /** Approves or denies one pending tool call, or all of them when `toolUseId` is omitted. */
  async decide(toolUseId: string | undefined, decision: ApprovalDecision): Promise<DecideResult> {
    const wait = this.approvals;
    if (!wait || wait.pending.size === 0) return { error: "no_pending_approval" };
    const ids = toolUseId === undefined ? [...wait.pending.keys()] : [toolUseId];
    if (toolUseId !== undefined && !wait.pending.has(toolUseId)) return { error: "unknown_tool_use" };
    for (const id of ids) {
      wait.pending.delete(id);
      wait.decisions.set(id, decision);
    }
    if (wait.pending.size === 0) {
      this.approvals = undefined;
      wait.resolve(wait.decisions);
    }
    return { decided: ids };
  }

  /** The run's events as server-sent events, after `Last-Event-ID` when the client sends one. */
  override async fetch(request: Request): Promise<Response> {
    // A finished run whose storage was cleared: the caller (who read the run) says it ended.
    if (request.headers.get("x-run-ended") === "1" && !(await this.ctx.storage.get<Phase>("phase"))) {
      return new Response(null, { status: 404 });
    }
    const after = Number.parseInt(request.headers.get("last-event-id") ?? "0", 10);
    const listener = request.headers.get("x-listener-id") ?? crypto.randomUUID();
    if (await this.ctx.storage.get("graceEndsAt")) await this.ctx.storage.delete("graceEndsAt");
    // Beat often enough that a gone client is noticed well within the grace period. (Read from
    // the configuration: an attach may arrive while the start that stores the run is under way.)
    const heartbeatMs = Math.max(1000, (parseConfig(this.env).AGENT_RUN_GRACE_SECONDS * 1000) / 2);
    return this.journal.stream(Number.isFinite(after) && after > 0 ? after : 0, listener, heartbeatMs);
  }

  /**
   * Forgets the run for good (its tenant is being erased): a run in progress is stopped first,
   * then the journal, the outcome and the alarm go. Calling it again finds nothing to do.
   */
  async erase(): Promise<void> {
    if (this.driver) {
      this.stop("tenant_erased");
      await this.driver.catch(() => undefined);
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** A client following the run through the Worker went away. */
  async detach(listenerId: string): Promise<void> {
    this.journal.detachListener(listenerId);
  }

  override async alarm(): Promise<void> {
    const phase = await this.ctx.storage.get<Phase>("phase");
    if (phase === "finished") {
      await this.ctx.storage.deleteAll();
      return;
    }
    if (phase !== "running") return;
    if (!this.driver) {
      await this.interrupted();
      return;
    }
    const now = Date.now();
    const graceEndsAt = await this.ctx.storage.get<number>("graceEndsAt");
    if (graceEndsAt !== undefined && graceEndsAt <= now && this.journal.attached === 0) {
      this.stop("client_disconnected");
    }
    const approvalEndsAt = this.earliestApprovalExpiry();
    if (approvalEndsAt !== undefined && approvalEndsAt <= now) this.stop("approval_expired");
    await this.scheduleWakeUp();
  }

  private async drive(spec: RunSpec): Promise<RunSummary> {
    const config = parseConfig(this.env);
    const client = connect(config);
    // Nothing awaits the connection until the first write; a failure surfaces there.
    client.catch(() => undefined);
    const store = new RunStore(client, spec, {
      queue: this.env.JOBS,
      policy: webhookPolicy(config),
      logger: newLogger(config.LOG_LEVEL, { object: "agent_run", runId: spec.runId }),
    });
    const telemetry = telemetryFor(config);
    try {
      const tools = await resolveRunTools(spec, {
        inTenant: (fn) => store.inTenant(fn),
        config,
        env: this.env,
      });
      const recordMetrics = runMetrics(telemetry, spec.model, tools);
      const outcome = await executeRun({
        spec,
        store,
        tools,
        provider: providerFor(config),
        emit: (event) => {
          this.journal.append(event);
          recordMetrics(event);
        },
        signal: this.abort.signal,
        stopReasonOnAbort: () => this.stopReason,
        awaitApprovals: (pending) => this.waitForApprovals(pending),
      });
      const summary = summarize(outcome);
      await this.finished(summary);
      return summary;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.ctx.waitUntil(
        reportError(config, error, { source: "agent_run", tenantId: spec.tenantId, runId: spec.runId }),
      );
      // Best effort: the failure may be the database itself.
      await store
        .finish({ status: "failed", stopReason: "error", error: `INTERNAL: ${detail}`.slice(0, 2000) })
        .catch(() => undefined);
      this.journal.append({ type: "error", code: "INTERNAL", detail: "The run failed unexpectedly." });
      this.journal.append({ type: "done", status: "failed", stopReason: "error", output: "" });
      await this.ctx.storage.put("phase", "finished");
      await this.ctx.storage.setAlarm(Date.now() + RETENTION_MS);
      throw new Error(`agent run ${spec.runId} failed: ${detail}`);
    } finally {
      this.driver = undefined;
      void closeQuietly(client);
      this.ctx.waitUntil(telemetry.flush());
    }
  }

  private async finished(outcome: RunSummary): Promise<void> {
    await this.ctx.storage.put({ phase: "finished", outcome });
    await this.ctx.storage.delete("graceEndsAt");
    await this.ctx.storage.setAlarm(Date.now() + RETENTION_MS);
  }

  private stop(reason: string): void {
    if (this.abort.signal.aborted) return;
    this.stopReason = reason;
    this.abort.abort(new Error(reason));
    this.approvals?.reject(new Error(reason));
    this.approvals = undefined;
  }

  private waitForApprovals(pending: PendingApproval[]): Promise<Map<string, ApprovalDecision>> {
    return new Promise((resolve, reject) => {
      if (this.abort.signal.aborted) return reject(new Error(this.stopReason));
      this.approvals = {
        pending: new Map(pending.map((p) => [p.toolUseId, p])),
        decisions: new Map(),
        resolve,
        reject,
      };
      void this.scheduleWakeUp();
    });
  }

  private earliestApprovalExpiry(): number | undefined {
    const times = [...(this.approvals?.pending.values() ?? [])].map((p) => Date.parse(p.expiresAt));
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** A streamed run with nobody attached gets the grace period to be reattached. */
  private async onDetached(): Promise<void> {
    if (!this.streamed || !this.driver) return;
    await this.ctx.storage.put(
      "graceEndsAt",
      Date.now() + parseConfig(this.env).AGENT_RUN_GRACE_SECONDS * 1000,
    );
    await this.scheduleWakeUp();
  }

  /** The next alarm: the keep-alive, or sooner when a grace period or an approval ends first. */
  private async scheduleWakeUp(): Promise<void> {
    const candidates = [Date.now() + KEEPALIVE_MS];
    const graceEndsAt = await this.ctx.storage.get<number>("graceEndsAt");
    if (graceEndsAt !== undefined && this.journal.attached === 0) candidates.push(graceEndsAt);
    const approvalEndsAt = this.earliestApprovalExpiry();
    if (approvalEndsAt !== undefined) candidates.push(approvalEndsAt);
    await this.ctx.storage.setAlarm(Math.max(Date.now() + 1, Math.min(...candidates)));
  }

  /** The object restarted while the run was in memory: record the run as failed. */
  private async interrupted(): Promise<void> {
    const meta = await this.ctx.storage.get<RunMeta>("meta");
    if (!meta) return;
    const client = connect(parseConfig(this.env));
    try {
      const run = await new RunStore(client, meta).finish({
        status: "failed",
        stopReason: "interrupted",
        error: "INTERNAL: the run's host restarted mid-run",
      });
      this.journal.append({ type: "error", code: "INTERNAL", detail: "The run was interrupted." });
      this.journal.append({ type: "done", status: run.status, stopReason: run.stopReason, output: "" });
      await this.finished(summarize({ run, output: "", messages: [], error: null }));
    } finally {
      void closeQuietly(client);
    }
  }
}

async function closeQuietly(client: Promise<Client>): Promise<void> {
  const open = await client.catch(() => undefined);
  await open?.end().catch(() => undefined);
}
