import type { Client } from "@neondatabase/serverless";
import { and, eq, inArray } from "drizzle-orm";
import { agentRuns, messages, toolExecutions } from "../../../db/schema";
import { type TenantDb, withTenant } from "../../../db/tenant";
import type { AgentRun, Message, NewToolExecution } from "../../../db/types";
import { type Budget, type Hold, releaseBudget, reserveBudget } from "../../quotas/budget";
import { announceBudgetCrossings, type BudgetNotifier } from "../../quotas/thresholds";
import { recordUsageEvents, type UsageEvent } from "../../usage/record";
import { ACTIVE_RUN_STATUSES } from "./prepare";
import type { RunSpec } from "./spec";

export type Totals = Pick<
  AgentRun,
  | "inputTokens"
  | "outputTokens"
  | "cacheCreationInputTokens"
  | "cacheReadInputTokens"
  | "costMicroUsd"
  | "modelCalls"
  | "toolCalls"
>;

/**
 * Where a running run writes: its messages, tool executions and final totals, each in its own
 * short tenant transaction. A run outlives any request, so it never holds a transaction (or a
 * row lock) across a model call.
 */
export class RunStore {
  private sequence: number;
  /** The budget hold of the model call in flight, released with that call's usage. */
  private heldBudget: string | null = null;

  constructor(
    private readonly client: Promise<Client>,
    private readonly spec: Pick<RunSpec, "tenantId" | "runId" | "conversationId" | "nextSequence">,
    /** Where the budget thresholds this run's usage crosses are announced (without one, nowhere). */
    private readonly notifier?: BudgetNotifier,
  ) {
    this.sequence = spec.nextSequence;
  }

  /** A short transaction of the run's tenant (tool calls that write get their own). */
  async inTenant<T>(fn: Parameters<typeof withTenant<T>>[2]): Promise<T> {
    return this.tx(fn);
  }

  private async tx<T>(fn: Parameters<typeof withTenant<T>>[2]): Promise<T> {
    return withTenant(await this.client, this.spec.tenantId, fn);
  }

  /**
   * Holds a model call's share of the tenant's budgets until the call's usage is stored (the
   * next `appendMessage` with totals, or `finish`). False when it does not fit.
   */
  async holdBudget(budget: Budget, hold: Hold): Promise<boolean> {
    this.heldBudget = await this.tx((db) => reserveBudget(db, budget, hold));
    return this.heldBudget !== null;
  }

  /** Releases the call's hold in the transaction that stores its usage, so the two commit together. */
  private async settleHold(db: TenantDb): Promise<void> {
    if (this.heldBudget) await releaseBudget(db, this.heldBudget);
  }

  /** Records usage events and announces the budget thresholds they crossed, in `db`'s transaction. */
  private async recordUsage(db: TenantDb, usage: readonly UsageEvent[]): Promise<void> {
    const changes = await recordUsageEvents(db, usage);
    if (this.notifier) await announceBudgetCrossings(db, changes, this.notifier);
  }

  /** After the settling transaction committed: the hold is gone. */
  private settled(): void {
    this.heldBudget = null;
  }

  /**
   * Stores one message; with `totals`, the run's running totals too, in the same transaction,
   * so a run that never finishes (its object lost) still shows what it used; with `usage`,
   * the model call's usage events as well, so the bill and the record commit together.
   */
  async appendMessage(
    role: Message["role"],
    content: unknown[],
    extra: Partial<
      Pick<
        Message,
        | "model"
        | "inputTokens"
        | "outputTokens"
        | "cacheCreationInputTokens"
        | "cacheReadInputTokens"
        | "costMicroUsd"
      >
    > = {},
    totals?: Totals,
    usage: readonly UsageEvent[] = [],
  ): Promise<Message> {
    const sequence = this.sequence++;
    const row = await this.tx(async (db) => {
      await this.recordUsage(db, usage);
      if (totals) {
        await this.settleHold(db);
        await db
          .update(agentRuns)
          .set({ ...totals })
          .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, this.spec.runId)));
      }
      const [row] = await db
        .insert(messages)
        .values({
          tenantId: db.tenantId,
          conversationId: this.spec.conversationId,
          sequence,
          role,
          content,
          runId: this.spec.runId,
          ...extra,
        })
        .returning();
      if (!row) throw new Error("messages insert returned no row");
      return row;
    });
    if (totals) this.settled();
    return row;
  }

  /** Stores a tool call with its usage events, if it has any, in one transaction. */
  async recordToolExecution(
    row: Omit<NewToolExecution, "tenantId" | "conversationId">,
    usage: readonly UsageEvent[] = [],
  ): Promise<void> {
    await this.tx(async (db) => {
      await db
        .insert(toolExecutions)
        .values({ ...row, tenantId: db.tenantId, conversationId: this.spec.conversationId });
      await recordUsageEvents(db, usage);
    });
  }

  /** Marks the run waiting for a human (with the calls waiting) or running again. */
  async setWaiting(pending: unknown[] | null): Promise<void> {
    await this.tx((db) =>
      db
        .update(agentRuns)
        .set({ status: pending ? "awaiting_approval" : "running", pendingApproval: pending })
        .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, this.spec.runId))),
    );
  }

  /** Moves a queued run to running (async runs, when the consumer hands them over). */
  async markRunning(): Promise<void> {
    await this.tx((db) =>
      db
        .update(agentRuns)
        .set({ status: "running", startedAt: new Date() })
        .where(
          and(
            eq(agentRuns.tenantId, db.tenantId),
            eq(agentRuns.id, this.spec.runId),
            eq(agentRuns.status, "queued"),
          ),
        ),
    );
  }

  /**
   * Records how the run ended. Only an unfinished run is updated, so a run that was ended
   * elsewhere (cancelled while queued) keeps its record; that record is returned instead.
   */
  async finish(
    result: { status: AgentRun["status"]; stopReason: string | null; error: string | null },
    /** Omitted when the run's object lost them: the totals stored so far stand. */
    totals?: Totals,
    /** Usage of a call that stored no message (cut off by a cancel or a failure). */
    usage: readonly UsageEvent[] = [],
  ): Promise<AgentRun> {
    const run = await this.tx(async (db) => {
      await this.recordUsage(db, usage);
      await this.settleHold(db);
      const [finished] = await db
        .update(agentRuns)
        .set({ ...result, ...totals, pendingApproval: null, finishedAt: new Date() })
        .where(
          and(
            eq(agentRuns.tenantId, db.tenantId),
            eq(agentRuns.id, this.spec.runId),
            inArray(agentRuns.status, [...ACTIVE_RUN_STATUSES]),
          ),
        )
        .returning();
      if (finished) return finished;
      const [current] = await db
        .select()
        .from(agentRuns)
        .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, this.spec.runId)));
      if (!current) throw new Error(`agent run ${this.spec.runId} is gone`);
      return current;
    });
    this.settled();
    return run;
  }
}
