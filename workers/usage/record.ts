import { sql } from "drizzle-orm";
import { type UsageMeter, usageEvents, usageRollups } from "../../db/schema/usage";
import { type TenantDb, writeAtCommit } from "../../db/tenant";
import { addSpend, type SpendChange } from "../quotas/budget";

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
 *
 * The events and their rollups are one statement (one round trip): the rollup upsert reads
 * the rows the insert returned, so only what was actually added is summed.
 */
export async function recordUsageEvents(db: TenantDb, events: readonly UsageEvent[]): Promise<SpendChange[]> {
  if (events.length === 0) return [];
  const rows = await eventsAndRollups(db, events);
  return addSpend(
    db,
    rows.map((row) => ({
      occurredAt: row.occurredAt,
      tokens: MODEL_TOKEN_METERS.has(row.meter) ? row.quantity : 0,
      microUsd: row.costMicroUsd,
    })),
  );
}

/**
 * Writes usage events that move no budget (no model tokens, no cost), with their rollups, when
 * the transaction commits (`writeAtCommit`): the same rows `recordUsageEvents` writes, without
 * a round trip of their own. Events that move a budget go through `recordUsageEvents`, which
 * adds the spend and reports the crossings.
 *
 * @throws Error for an event with model tokens or a cost.
 * @example
 * recordUnbilledUsageAtCommit(db, queryEmbeddingEvents({ queryId, actor, embeddings }));
 */
export function recordUnbilledUsageAtCommit(db: TenantDb, events: readonly UsageEvent[]): void {
  if (events.length === 0) return;
  const billed = events.find((e) => MODEL_TOKEN_METERS.has(e.meter) || (e.costMicroUsd ?? 0) !== 0);
  if (billed) throw new Error(`usage event ${billed.eventKey} moves a budget: use recordUsageEvents`);
  writeAtCommit(db, eventsAndRollups(db, events));
}

/**
 * One statement: inserts the events (skipping keys already recorded) and adds what it inserted
 * to the hourly rollups, returning the inserted rows.
 */
function eventsAndRollups(db: TenantDb, events: readonly UsageEvent[]) {
  const added = db.$with("added").as(
    db
      .insert(usageEvents)
      .values(events.map((event) => ({ ...event, tenantId: db.tenantId })))
      .onConflictDoNothing({ target: [usageEvents.tenantId, usageEvents.eventKey] })
      .returning({
        occurredAt: usageEvents.occurredAt,
        meter: usageEvents.meter,
        quantity: usageEvents.quantity,
        costMicroUsd: usageEvents.costMicroUsd,
        // Read by the rollup below only.
        tenantId: usageEvents.tenantId,
        model: usageEvents.model,
        agentId: usageEvents.agentId,
        userId: usageEvents.userId,
        apiKeyId: usageEvents.apiKeyId,
      }),
  );
  // Summed per UTC hour (date_bin from the epoch, whatever the session's time zone) and per
  // every grouping reports offer; a NULLS NOT DISTINCT key, so events without a model or agent
  // share a row.
  const rolledUp = db.$with("rolled_up", {}).as(
    sql`insert into ${usageRollups}
          (tenant_id, hour, meter, model, agent_id, user_id, api_key_id, quantity, cost_micro_usd, events)
        select tenant_id, date_bin('1 hour', occurred_at, timestamptz '1970-01-01 00:00:00+00'), meter,
               model, agent_id, user_id, api_key_id, sum(quantity), sum(cost_micro_usd), count(*)
          from added
         group by 1, 2, 3, 4, 5, 6, 7
        on conflict on constraint usage_rollups_key do update
           set quantity = ${usageRollups}.quantity + excluded.quantity,
               cost_micro_usd = ${usageRollups}.cost_micro_usd + excluded.cost_micro_usd,
               events = ${usageRollups}.events + excluded.events`,
  );
  return db.with(added, rolledUp).select().from(added);
}

/** The meters a monthly token budget counts: every kind of model token. */
export const MODEL_TOKEN_METERS: ReadonlySet<UsageMeter> = new Set([
  "model_input_tokens",
  "model_output_tokens",
  "model_cache_write_tokens",
  "model_cache_read_tokens",
]);
