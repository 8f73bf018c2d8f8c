import { and, eq, inArray, type SQL, sql, type WithSubquery } from "drizzle-orm";
import { budgetPeriods, budgetReservations } from "../../db/schema/budgets";
import type { TenantDb } from "../../db/tenant";
import { ApiError } from "../lib/errors";
import { newId } from "../lib/ids";
import type { Quotas } from "../lib/limits";
import type { Price } from "../lib/models";

/** A tenant's monthly budgets; `null` is unlimited. A run carries this in its spec. */
export interface Budget {
  tokens: number | null;
  microUsd: number | null;
}

/** The tenant's budgets, or `null` when it has none (then nothing is reserved). */
export function budgetOf(quotas: Quotas): Budget | null {
  const budget = { tokens: quotas.monthlyTokenBudget, microUsd: quotas.monthlyCostBudgetMicroUsd };
  return budget.tokens === null && budget.microUsd === null ? null : budget;
}

/** The budget period (calendar month, UTC) holding `at`, as its first day: `2026-11-01`. */
export function periodOf(at: Date = new Date()): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, "0")}-01`;
}

/** A period's spend and holds. */
export interface PeriodState {
  period: string;
  spentTokens: number;
  spentMicroUsd: number;
  reservedTokens: number;
  reservedMicroUsd: number;
}

export async function periodState(db: TenantDb, period = periodOf()): Promise<PeriodState> {
  const [row] = await db
    .select()
    .from(budgetPeriods)
    .where(and(eq(budgetPeriods.tenantId, db.tenantId), eq(budgetPeriods.period, period)));
  return row ?? { period, ...NOTHING_SPENT };
}

export const NOTHING_SPENT = { spentTokens: 0, spentMicroUsd: 0, reservedTokens: 0, reservedMicroUsd: 0 };

/** The quota each budget is set by, as problems and metrics name it. */
const BUDGET_QUOTA = { tokens: "monthlyTokenBudget", microUsd: "monthlyCostBudgetMicroUsd" } as const;

/**
 * The 402 for a budget with nothing left (before a run) or too little for a model call (during
 * one; `which` is null when the hold did not fit without saying which budget refused it).
 */
export function budgetExhausted(which: keyof Budget | null, during: "run" | "call" = "run"): ApiError {
  const what =
    which === null
      ? "monthly budget"
      : `${which === "tokens" ? "monthly token budget" : "monthly cost budget"} (${BUDGET_QUOTA[which]})`;
  return new ApiError("PAYMENT_REQUIRED", {
    detail:
      during === "run"
        ? `The tenant's ${what} is used up for this month.`
        : `The tenant's ${what} has too little left for another model call this month.`,
    ...(which ? { limit: BUDGET_QUOTA[which] } : {}),
  });
}

/**
 * Refuses new work when a budget has nothing left once what is spent and held is counted.
 *
 * @throws ApiError PAYMENT_REQUIRED naming the budget in `limit`
 */
export function refuseIfExhausted(budget: Budget | null, state: PeriodState): void {
  if (budget?.tokens != null && state.spentTokens + state.reservedTokens >= budget.tokens) {
    throw budgetExhausted("tokens");
  }
  if (budget?.microUsd != null && state.spentMicroUsd + state.reservedMicroUsd >= budget.microUsd) {
    throw budgetExhausted("microUsd");
  }
}

/**
 * Admits new work against the tenant's budgets: refuses it when a budget has nothing left, and
 * otherwise returns the warning header's value (null below the threshold). Costs one read, and
 * none for a tenant without budgets.
 *
 * @throws ApiError PAYMENT_REQUIRED naming the budget in `limit`
 */
export async function admitAgainstBudgets(
  db: TenantDb,
  quotas: Quotas,
): Promise<{ budget: Budget | null; warning: string | null }> {
  const budget = budgetOf(quotas);
  if (!budget) return { budget: null, warning: null };
  const state = await periodState(db);
  refuseIfExhausted(budget, state);
  return { budget, warning: quotaWarning(quotas, state) };
}

/** The largest share of a budget that is spent or held, in percent (0 without budgets). */
export function budgetUsedPercent(budget: Budget | null, state: PeriodState): number {
  const share = (used: number, of: number | null) => (of ? (100 * used) / of : 0);
  return Math.max(
    share(state.spentTokens + state.reservedTokens, budget?.tokens ?? null),
    share(state.spentMicroUsd + state.reservedMicroUsd, budget?.microUsd ?? null),
  );
}

/** The response header that warns a tenant past the warning share of a budget. */
export const QUOTA_WARNING_HEADER = "Meridian-Quota-Warning";

/** The warning header's value (`budget-used=85.5%; threshold=80%`), or null below the threshold. */
export function quotaWarning(quotas: Quotas, state: PeriodState): string | null {
  const used = budgetUsedPercent(budgetOf(quotas), state);
  if (used < quotas.budgetWarningPercent) return null;
  return `budget-used=${Math.round(used * 10) / 10}%; threshold=${quotas.budgetWarningPercent}%`;
}

/** What one model call holds until its usage is stored. */
export interface Hold {
  tokens: number;
  microUsd: number;
  runId: string;
  /** After this the housekeeping cron may release the hold (its run's object was lost). */
  expiresAt: Date;
}

/** How long past its deadline a call's hold outlives a lost run before the cron may release it. */
const HOLD_GRACE_MS = 5 * 60_000;

/**
 * What a model call holds: its estimated input plus all the output it may produce, priced at
 * the dearer of the input and cache-write rates, so a call's actual use stays within its hold
 * as far as the input estimate is right.
 */
export function modelCallHold(call: {
  runId: string;
  price: Price | null;
  estimatedInputTokens: number;
  maxTokens: number;
  deadline: number;
}): Hold {
  const inputRate = call.price ? Math.max(call.price.inputPerMTok, call.price.cacheWritePerMTok) : 0;
  return {
    tokens: call.estimatedInputTokens + call.maxTokens,
    microUsd: Math.ceil(
      call.estimatedInputTokens * inputRate + call.maxTokens * (call.price?.outputPerMTok ?? 0),
    ),
    runId: call.runId,
    expiresAt: new Date(call.deadline + HOLD_GRACE_MS),
  };
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * `reserveBudget`'s statement as CTEs, so that a hold can ride on a statement the caller makes
 * anyway instead of costing a round trip of its own: put `ctes` in that statement's `with` and
 * read `fits` (true when the hold was taken) from it. The hold's id is `id` either way.
 *
 * @example
 * const hold = reserveBudgetCtes(db, budget, next);
 * await db.with(...hold.ctes).insert(messages).values(values).returning({ held: hold.fits });
 */
export function reserveBudgetCtes(
  db: TenantDb,
  budget: Budget,
  hold: Hold,
): { id: string; ctes: WithSubquery[]; fits: SQL<boolean> } {
  const { id, held, reserved } = holdCtes(db, budget, hold);
  return { id, ctes: [held, reserved], fits: sql<boolean>`exists (select 1 from ${reserved})` };
}

function holdCtes(db: TenantDb, budget: Budget, hold: Hold) {
  const period = periodOf();
  const id = newId();
  const tokenBudget = budget.tokens ?? UNLIMITED;
  const costBudget = budget.microUsd ?? UNLIMITED;
  const held = db.$with("budget_held", { tenantId: sql<string>`tenant_id`.as("tenant_id") }).as(sql`
    insert into budget_periods as b (tenant_id, period, reserved_tokens, reserved_micro_usd)
    select ${db.tenantId}, ${period}, ${hold.tokens}, ${hold.microUsd}
    where ${hold.tokens}::bigint <= ${tokenBudget}::bigint and ${hold.microUsd}::bigint <= ${costBudget}::bigint
    on conflict (tenant_id, period) do update
      set reserved_tokens = b.reserved_tokens + excluded.reserved_tokens,
          reserved_micro_usd = b.reserved_micro_usd + excluded.reserved_micro_usd,
          updated_at = now()
      where b.spent_tokens + b.reserved_tokens + excluded.reserved_tokens <= ${tokenBudget}::bigint
        and b.spent_micro_usd + b.reserved_micro_usd + excluded.reserved_micro_usd <= ${costBudget}::bigint
    returning b.tenant_id`);
  const reserved = db.$with("budget_reserved", { id: sql<string>`id`.as("id") }).as(sql`
    insert into budget_reservations (id, tenant_id, period, tokens, micro_usd, run_id, expires_at)
    select ${id}, tenant_id, ${period}, ${hold.tokens}, ${hold.microUsd}, ${hold.runId}, ${hold.expiresAt.toISOString()}
    from ${held}
    returning id`);
  return { id, held, reserved };
}

/**
 * Holds `hold` against the tenant's budgets for this month, if it fits: one statement that
 * adds the hold to the period row under that row's lock, on the condition that spent + held +
 * this hold stays within each budget, and records the hold. Concurrent calls therefore queue
 * on the row and can never both take the last of a budget; what a tenant spends past its
 * budget is bounded by what one call uses beyond its hold.
 *
 * @returns the hold's id, or `null` when it does not fit.
 */
export async function reserveBudget(db: TenantDb, budget: Budget, hold: Hold): Promise<string | null> {
  const { held, reserved } = holdCtes(db, budget, hold);
  const [row] = await db.with(held, reserved).select({ id: reserved.id }).from(reserved);
  return row?.id ?? null;
}

/**
 * `releaseBudget` for several holds, as CTEs to put in the `with` of a statement the caller
 * makes anyway (the one that stores the calls' usage).
 */
export function releaseBudgetCtes(db: TenantDb, holdIds: readonly string[]): WithSubquery[] {
  if (holdIds.length === 0) return [];
  const { released, unheld } = releaseCtes(db, holdIds);
  return [released, unheld];
}

function releaseCtes(db: TenantDb, holdIds: readonly string[]) {
  const released = db.$with("budget_released", { period: sql<string>`period`.as("period") }).as(sql`
    delete from ${budgetReservations}
    where ${and(eq(budgetReservations.tenantId, db.tenantId), inArray(budgetReservations.id, [...holdIds]))}
    returning period, tokens, micro_usd`);
  // Summed per period first: an update joined to two rows of one period would apply only one.
  const unheld = db.$with("budget_unheld", {}).as(sql`
    update budget_periods as b
    set reserved_tokens = greatest(0, b.reserved_tokens - r.tokens),
        reserved_micro_usd = greatest(0, b.reserved_micro_usd - r.micro_usd),
        updated_at = now()
    from (select period, sum(tokens) as tokens, sum(micro_usd) as micro_usd from ${released} group by period) as r
    where b.tenant_id = ${db.tenantId} and b.period = r.period`);
  return { released, unheld };
}

/**
 * Returns a hold to its period. A hold already released (by an earlier attempt, or by the
 * cron after it expired) releases nothing, so calling this twice is harmless.
 */
export async function releaseBudget(db: TenantDb, holdId: string): Promise<void> {
  const { released, unheld } = releaseCtes(db, [holdId]);
  await db.with(released, unheld).select({ period: released.period }).from(released);
}

/** How one recording moved a period's spend, with what the announcements of it need. */
export interface SpendChange {
  period: string;
  before: { tokens: number; microUsd: number };
  after: { tokens: number; microUsd: number };
  /** The tenant's ceilings and quotas, read in the same statement. */
  limits: Record<string, number>;
  billingWebhookUrl: string | null;
}

/**
 * Adds newly recorded usage to each period's spend, in the transaction that recorded it. Only
 * rows the usage insert actually added are passed here, so a redelivered event adds nothing.
 * Returns each period's spend before and after, for the budget thresholds it crossed.
 */
export async function addSpend(
  db: TenantDb,
  added: ReadonlyArray<{ occurredAt: Date; tokens: number; microUsd: number }>,
): Promise<SpendChange[]> {
  const perPeriod = new Map<string, { tokens: number; microUsd: number }>();
  for (const row of added) {
    const period = periodOf(row.occurredAt);
    const sum = perPeriod.get(period) ?? { tokens: 0, microUsd: 0 };
    sum.tokens += row.tokens;
    sum.microUsd += row.microUsd;
    perPeriod.set(period, sum);
  }
  const changes: SpendChange[] = [];
  for (const [period, sum] of perPeriod) {
    if (sum.tokens === 0 && sum.microUsd === 0) continue;
    const [after] = await db
      .insert(budgetPeriods)
      .values({ tenantId: db.tenantId, period, spentTokens: sum.tokens, spentMicroUsd: sum.microUsd })
      .onConflictDoUpdate({
        target: [budgetPeriods.tenantId, budgetPeriods.period],
        set: {
          spentTokens: sql`${budgetPeriods.spentTokens} + excluded.spent_tokens`,
          spentMicroUsd: sql`${budgetPeriods.spentMicroUsd} + excluded.spent_micro_usd`,
          updatedAt: sql`now()`,
        },
      })
      .returning({
        tokens: budgetPeriods.spentTokens,
        microUsd: budgetPeriods.spentMicroUsd,
        limits: sql<Record<string, number>>`(select t.limits from tenants t where t.id = ${db.tenantId})`,
        billingWebhookUrl: sql<
          string | null
        >`(select t.settings->>'billingWebhookUrl' from tenants t where t.id = ${db.tenantId})`,
      });
    if (!after) throw new Error("budget_periods upsert returned no row");
    changes.push({
      period,
      before: { tokens: after.tokens - sum.tokens, microUsd: after.microUsd - sum.microUsd },
      after: { tokens: after.tokens, microUsd: after.microUsd },
      limits: after.limits ?? {},
      billingWebhookUrl: after.billingWebhookUrl,
    });
  }
  return changes;
}
