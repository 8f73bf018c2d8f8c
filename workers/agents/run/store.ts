import type { Client } from "@neondatabase/serverless";
import { and, eq, inArray } from "drizzle-orm";
import { agentRuns, toolExecutions } from "../../../db/schema";
import { type TenantDb, withTenant } from "../../../db/tenant";
import type { AgentRun, Message, NewToolExecution } from "../../../db/types";
import { type Hold, releaseBudgetCtes, reserveBudget } from "../../quotas/budget";
import { announceBudgetCrossings, type BudgetNotifier } from "../../quotas/thresholds";
import { recordUsageEvents, type UsageEvent } from "../../usage/record";
import { type CallHold, type HeldAhead, insertMessage } from "./hold";
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

type MessageFields = Partial<
  Pick<
    Message,
    | "model"
    | "inputTokens"
    | "outputTokens"
    | "cacheCreationInputTokens"
    | "cacheReadInputTokens"
    | "costMicroUsd"
  >
>;

type Amount = Pick<Hold, "tokens" | "microUsd">;

/** True when `a` holds at least what `b` does, of both budgets. */
const covers = (a: Amount, b: Amount) => a.tokens >= b.tokens && a.microUsd >= b.microUsd;

/**
 * Where a running run writes: its messages, tool executions and final totals, each in its own
 * short tenant transaction. A run outlives any request, so it never holds a transaction (or a
 * row lock) across a model call.
 */
export class RunStore {
  private sequence: number;
  /** Budget holds not settled yet: the model call in flight's, or the next call's, taken ahead. */
  private unsettled: string[] = [];
  /** The next model call's hold as the write before it took it, until that call claims it. */
  private ahead: HeldAhead | null = null;

  constructor(
    private readonly client: Promise<Client>,
    private readonly spec: Pick<
      RunSpec,
      "tenantId" | "runId" | "conversationId" | "nextSequence" | "firstHold"
    >,
    /** Where the budget thresholds this run's usage crosses are announced (without one, nowhere). */
    private readonly notifier?: BudgetNotifier,
  ) {
    this.sequence = spec.nextSequence;
    if (spec.firstHold) this.tookAhead(spec.firstHold);
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
   *
   * Every call claims its hold here, and that normally costs nothing: the write just before the
   * call (the run's rows in prepareRun, `markRunning`, or the last tool results) has taken the
   * hold already. Only what that hold does not cover is taken here, in a transaction of its
   * own: the tool definitions' share, which prepareRun cannot see, or the whole hold of a run
   * whose spec came without one (one started again from its stored record).
   */
  async holdBudget({ budget, hold }: CallHold): Promise<boolean> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead?.id && covers(ahead, hold)) return true;
    // A hold no larger than this one did not fit moments ago, with no call made since.
    if (ahead && !ahead.id && covers(hold, ahead)) return false;
    const taken = ahead?.id ? ahead : { tokens: 0, microUsd: 0 };
    const rest = {
      ...hold,
      tokens: Math.max(0, hold.tokens - taken.tokens),
      microUsd: Math.max(0, hold.microUsd - taken.microUsd),
    };
    const id = await this.tx((db) => reserveBudget(db, budget, rest));
    if (id) this.unsettled.push(id);
    return id !== null;
  }

  private tookAhead(held: HeldAhead): void {
    this.ahead = held;
    if (held.id) this.unsettled.push(held.id);
  }

  /** Records usage events and announces the budget thresholds they crossed, in `db`'s transaction. */
  private async recordUsage(db: TenantDb, usage: readonly UsageEvent[]): Promise<void> {
    const changes = await recordUsageEvents(db, usage);
    if (this.notifier) await announceBudgetCrossings(db, changes, this.notifier);
  }

  /**
   * After the transaction that stored a call's usage committed: the holds it released (in the
   * statement that stored the totals, so spend and holds change together) are gone.
   */
  private settled(): void {
    this.unsettled = [];
    this.ahead = null;
  }

  /**
   * Stores one message; with `totals`, the run's running totals too, in the same transaction,
   * so a run that never finishes (its object lost) still shows what it used; with `usage`,
   * the model call's usage events as well, so the bill and the record commit together.
   */
  async appendMessage(
    role: Message["role"],
    content: unknown[],
    extra: MessageFields = {},
    totals?: Totals,
    usage: readonly UsageEvent[] = [],
  ): Promise<Message> {
    const row = await this.insert({ role, content, ...extra }, null, async (db) => {
      await this.recordUsage(db, usage);
      if (!totals) return;
      await db
        .with(...releaseBudgetCtes(db, this.unsettled))
        .update(agentRuns)
        .set({ ...totals })
        .where(and(eq(agentRuns.tenantId, db.tenantId), eq(agentRuns.id, this.spec.runId)));
    });
    if (totals) this.settled();
    return row;
  }

  /**
   * Stores a tool round's results (role `tool`); with `next`, the next model call's hold is
   * taken in the same statement, for that call's `holdBudget` to claim.
   */
  async appendToolResults(results: unknown[], next: CallHold | null): Promise<Message> {
    return this.insert({ role: "tool", content: results }, next);
  }

  /** One message in its own transaction, after whatever `before` writes in it. */
  private async insert(
    message: { role: Message["role"]; content: unknown[] } & MessageFields,
    next: CallHold | null,
    before?: (db: TenantDb) => Promise<void>,
  ): Promise<Message> {
    const sequence = this.sequence++;
    const { row, held } = await this.tx(async (db) => {
      await before?.(db);
      const values = {
        ...message,
        conversationId: this.spec.conversationId,
        sequence,
        runId: this.spec.runId,
      };
      return insertMessage(db, values, next);
    });
    if (held) this.tookAhead(held);
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

  /**
   * Moves a queued run to running (async runs, when the consumer hands them over); with
   * `first`, takes the first model call's hold in the same transaction.
   */
  async markRunning(first: CallHold | null): Promise<void> {
    const held = await this.tx(async (db) => {
      await db
        .update(agentRuns)
        .set({ status: "running", startedAt: new Date() })
        .where(
          and(
            eq(agentRuns.tenantId, db.tenantId),
            eq(agentRuns.id, this.spec.runId),
            eq(agentRuns.status, "queued"),
          ),
        );
      if (!first) return null;
      const id = await reserveBudget(db, first.budget, first.hold);
      return { id, tokens: first.hold.tokens, microUsd: first.hold.microUsd };
    });
    if (held) this.tookAhead(held);
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
      const [finished] = await db
        .with(...releaseBudgetCtes(db, this.unsettled))
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
