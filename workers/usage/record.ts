import { type UsageMeter, usageEvents } from "../../db/schema/usage";
import type { TenantDb } from "../../db/tenant";
import { addSpend, type SpendChange } from "../quotas/budget";
import { addToRollups } from "./rollups";

/** One event as the metered code describes it; the tenant comes from the transaction. */
export type UsageEvent = Omit<typeof usageEvents.$inferInsert, "id" | "tenantId" | "createdAt" | "meter"> & {
  meter: UsageMeter;
};

/**
 * Writes usage events in the caller's transaction, so they commit with the work they bill.
 * A key already recorded (a retried or redelivered work item) is skipped, never counted twice;
 * what was added also goes into its hourly rollups (usage_rollups, which reports read) and the
 * month's spend (budget_periods, which budgets are checked against), so both agree with the
 * events. Returns how the spend moved (see
 * `announceBudgetCrossings`).
 */
export async function recordUsageEvents(db: TenantDb, events: readonly UsageEvent[]): Promise<SpendChange[]> {
  if (events.length === 0) return [];
  const added = await db
    .insert(usageEvents)
    .values(events.map((event) => ({ ...event, tenantId: db.tenantId })))
    .onConflictDoNothing({ target: [usageEvents.tenantId, usageEvents.eventKey] })
    .returning({
      occurredAt: usageEvents.occurredAt,
      meter: usageEvents.meter,
      quantity: usageEvents.quantity,
      costMicroUsd: usageEvents.costMicroUsd,
      model: usageEvents.model,
      agentId: usageEvents.agentId,
      userId: usageEvents.userId,
      apiKeyId: usageEvents.apiKeyId,
    });
  await addToRollups(db, added);
  return addSpend(
    db,
    added.map((row) => ({
      occurredAt: row.occurredAt,
      tokens: MODEL_TOKEN_METERS.has(row.meter) ? row.quantity : 0,
      microUsd: row.costMicroUsd,
    })),
  );
}

/** The meters a monthly token budget counts: every kind of model token. */
export const MODEL_TOKEN_METERS: ReadonlySet<UsageMeter> = new Set([
  "model_input_tokens",
  "model_output_tokens",
  "model_cache_write_tokens",
  "model_cache_read_tokens",
]);
