import type { TenantDb } from "../../db/tenant";
import { quotasOf } from "../lib/limits";
import { type BillingNotifier, enqueueBillingWebhook } from "../usage/billing-webhook";
import type { SpendChange } from "./budget";

/** The shares of a monthly budget whose crossing is announced, besides the tenant's warning share. */
export const BUDGET_THRESHOLDS = [50, 80, 100] as const;

const BUDGETS = [
  ["monthlyTokenBudget", "tokens"],
  ["monthlyCostBudgetMicroUsd", "microUsd"],
] as const;

/** One budget's spend passing one threshold. */
export interface BudgetCrossing {
  period: string;
  budget: (typeof BUDGETS)[number][0];
  thresholdPercent: number;
  limit: number;
  spent: number;
}

/** The thresholds (50, 80, 100 % and the warning share) each budget's spend passed in `change`. */
export function budgetCrossings(change: SpendChange): BudgetCrossing[] {
  const quotas = quotasOf(change.limits);
  const thresholds = [...new Set([...BUDGET_THRESHOLDS, quotas.budgetWarningPercent])].sort((a, b) => a - b);
  const crossings: BudgetCrossing[] = [];
  for (const [budget, field] of BUDGETS) {
    const limit = quotas[budget];
    if (limit === null) continue;
    for (const thresholdPercent of thresholds) {
      const mark = (limit * thresholdPercent) / 100;
      if (change.before[field] < mark && change.after[field] >= mark) {
        crossings.push({
          period: change.period,
          budget,
          thresholdPercent,
          limit,
          spent: change.after[field],
        });
      }
    }
  }
  return crossings;
}

/** Where a recording's announcements go: the jobs queue and the webhook outbound policy. */
export type BudgetNotifier = BillingNotifier;

/**
 * Sends `budget.threshold_crossed` to the tenant's billing webhook URL for each threshold the
 * recording crossed, in the recording's transaction. The event id names the period, budget and
 * threshold, so a threshold is announced once a month however the spend got there; a
 * recording that rolls back announces nothing. A URL the outbound policy refuses is logged and
 * skipped: it must not undo the usage it would have announced.
 */
export async function announceBudgetCrossings(
  db: TenantDb,
  changes: readonly SpendChange[],
  notifier: BudgetNotifier,
): Promise<void> {
  for (const change of changes) {
    if (!change.billingWebhookUrl) continue;
    for (const crossing of budgetCrossings(change)) {
      await enqueueBillingWebhook(db, notifier, {
        eventId: `budget.threshold_crossed:${crossing.period}:${crossing.budget}:${crossing.thresholdPercent}`,
        eventType: "budget.threshold_crossed",
        url: change.billingWebhookUrl,
        payload: { tenantId: db.tenantId, ...crossing },
      });
    }
  }
}
