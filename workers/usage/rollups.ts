import { sql } from "drizzle-orm";
import { type UsageMeter, usageRollups } from "../../db/schema/usage";
import type { TenantDb } from "../../db/tenant";

/** A usage event as the insert returned it: only rows it actually added are rolled up. */
export interface AddedEvent {
  occurredAt: Date;
  meter: UsageMeter;
  quantity: number;
  costMicroUsd: number;
  model: string | null;
  agentId: string | null;
  userId: string | null;
  apiKeyId: string | null;
}

const HOUR_MS = 3_600_000;

/**
 * Adds newly recorded events to their hourly rollups, in the transaction that recorded them:
 * one multi-row upsert, summed per hour, meter, model, agent, user and key.
 */
export async function addToRollups(db: TenantDb, added: readonly AddedEvent[]): Promise<void> {
  const rows = new Map<string, typeof usageRollups.$inferInsert>();
  for (const event of added) {
    const hour = new Date(Math.floor(event.occurredAt.getTime() / HOUR_MS) * HOUR_MS);
    const key = JSON.stringify([
      hour.getTime(),
      event.meter,
      event.model,
      event.agentId,
      event.userId,
      event.apiKeyId,
    ]);
    const row = rows.get(key) ?? {
      tenantId: db.tenantId,
      hour,
      meter: event.meter,
      model: event.model,
      agentId: event.agentId,
      userId: event.userId,
      apiKeyId: event.apiKeyId,
      quantity: 0,
      costMicroUsd: 0,
      events: 0,
    };
    row.quantity = (row.quantity ?? 0) + event.quantity;
    row.costMicroUsd = (row.costMicroUsd ?? 0) + event.costMicroUsd;
    row.events = (row.events ?? 0) + 1;
    rows.set(key, row);
  }
  if (rows.size === 0) return;
  await db
    .insert(usageRollups)
    .values([...rows.values()])
    .onConflictDoUpdate({
      target: [
        usageRollups.tenantId,
        usageRollups.hour,
        usageRollups.meter,
        usageRollups.model,
        usageRollups.agentId,
        usageRollups.userId,
        usageRollups.apiKeyId,
      ],
      set: {
        quantity: sql`${usageRollups.quantity} + excluded.quantity`,
        costMicroUsd: sql`${usageRollups.costMicroUsd} + excluded.cost_micro_usd`,
        events: sql`${usageRollups.events} + excluded.events`,
      },
    });
}
