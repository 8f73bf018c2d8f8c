import { sql } from "drizzle-orm";
import { bigint, check, date, index, pgTable, primaryKey, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, tenantKey, tenantPolicies } from "./columns";
import { tenantId } from "./tenants";

/**
 * A tenant's spend in one calendar month (UTC), kept beside the usage events it sums so budget
 * checks read one row. `spent_*` grow in the transaction that records usage events, by what
 * that insert actually added (a redelivered event adds nothing). `reserved_*` is what model
 * calls in flight have set aside (see budget_reservations): a call may start only if spent +
 * reserved + its own reservation stays within the budget.
 */
export const budgetPeriods = pgTable(
  "budget_periods",
  {
    ...tenantId,
    /** The first day of the month. */
    period: date("period", { mode: "string" }).notNull(),
    spentTokens: bigint("spent_tokens", { mode: "number" }).notNull().default(0),
    spentMicroUsd: bigint("spent_micro_usd", { mode: "number" }).notNull().default(0),
    reservedTokens: bigint("reserved_tokens", { mode: "number" }).notNull().default(0),
    reservedMicroUsd: bigint("reserved_micro_usd", { mode: "number" }).notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "budget_periods_pkey", columns: [t.tenantId, t.period] }),
    check(
      "budget_periods_amounts_check",
      sql`${t.spentTokens} >= 0 and ${t.spentMicroUsd} >= 0 and ${t.reservedTokens} >= 0 and ${t.reservedMicroUsd} >= 0`,
    ),
    ...tenantPolicies(),
  ],
);

/**
 * One model call's hold on its tenant's budget, from before the call until its usage is stored.
 * A run whose object is lost mid-call never releases its hold: the hold expires, and the
 * housekeeping cron returns it to the period (`meridian_release_expired_reservations`).
 */
export const budgetReservations = pgTable(
  "budget_reservations",
  {
    ...id,
    ...tenantId,
    period: date("period", { mode: "string" }).notNull(),
    tokens: bigint("tokens", { mode: "number" }).notNull(),
    microUsd: bigint("micro_usd", { mode: "number" }).notNull(),
    /** The agent run the call belongs to. */
    runId: uuid("run_id").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    ...createdAt,
  },
  (t) => [
    tenantKey("budget_reservations", t),
    index("budget_reservations_expires_at_idx").on(t.expiresAt),
    check("budget_reservations_amounts_check", sql`${t.tokens} >= 0 and ${t.microUsd} >= 0`),
    ...tenantPolicies(),
  ],
);
