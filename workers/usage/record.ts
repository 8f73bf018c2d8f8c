import { type UsageMeter, usageEvents } from "../../db/schema/usage";
import type { TenantDb } from "../../db/tenant";

/** One event as the metered code describes it; the tenant comes from the transaction. */
export type UsageEvent = Omit<typeof usageEvents.$inferInsert, "id" | "tenantId" | "createdAt" | "meter"> & {
  meter: UsageMeter;
};

/**
 * Writes usage events in the caller's transaction, so they commit with the work they bill.
 * A key already recorded (a retried or redelivered work item) is skipped, never counted twice.
 */
export async function recordUsageEvents(db: TenantDb, events: readonly UsageEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insert(usageEvents)
    .values(events.map((event) => ({ ...event, tenantId: db.tenantId })))
    .onConflictDoNothing({ target: [usageEvents.tenantId, usageEvents.eventKey] });
}
