import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { tenants, usageReportCursors, usageRollups } from "../../db/schema";
import type { UsageMeter } from "../../db/schema/usage";
import type { TenantDb } from "../../db/tenant";
import { type BillingNotifier, enqueueBillingWebhook } from "./billing-webhook";
import { METER_UNITS } from "./meter-units";

const HOUR_MS = 3_600_000;

/**
 * An hour is reported once it ended this long ago. Usage rows carry their transaction's start
 * time, so a transaction open across the end of an hour adds to that hour when it commits.
 */
export const ROLLUP_CLOSE_DELAY_MS = 10 * 60_000;

/**
 * Hours with usage sent per run at most: a tenant behind after an outage catches up over a few
 * runs, each a short transaction, rather than in one that queues hundreds of deliveries.
 */
export const MAX_ROLLUP_HOURS_PER_RUN = 48;

export interface UsageRollupTotals {
  quantity: number;
  costMicroUsd: number;
  events: number;
}

export interface UsageRollupMeter extends UsageRollupTotals {
  meter: UsageMeter;
  unit: (typeof METER_UNITS)[UsageMeter];
}

export interface UsageRollupLine extends UsageRollupMeter {
  model: string | null;
}

/**
 * The `data` of a `usage.rollup` event: one closed hour of a tenant's usage (docs/webhooks.md).
 * A type, not an interface, so it is a webhook payload (`Record<string, unknown>`) as it is.
 */
export type UsageRollupPayload = {
  tenantId: string;
  /** The hour, `from` inclusive and `to` exclusive (ISO 8601, UTC). */
  from: string;
  to: string;
  /** The hour's cost over all meters. */
  costMicroUsd: number;
  events: number;
  /** Per meter. */
  meters: UsageRollupMeter[];
  /** Per meter and model (null for usage without one); the same sums, split further. */
  lines: UsageRollupLine[];
};

/** The event id of a tenant's report of the hour starting at `hour`: one delivery per hour, ever. */
export function rollupEventId(hour: Date): string {
  return `usage.rollup:${hour.toISOString()}`;
}

/** The end of the last hour that is closed at `now` (Unix ms). */
export function closedThrough(now: number): Date {
  return new Date(Math.floor((now - ROLLUP_CLOSE_DELAY_MS) / HOUR_MS) * HOUR_MS);
}

export interface RollupReport {
  /** Deliveries this run created. */
  sent: number;
  /** The cursor after the run; null when the tenant has no billing webhook URL. */
  reportedThrough: Date | null;
}

/**
 * Sends `usage.rollup` to the tenant's billing webhook URL for each closed hour with usage that
 * has not been reported yet, oldest first, in the caller's tenant transaction. The cursor
 * (`usage_report_cursors`) is locked for the run and moved in the same transaction as the
 * deliveries are recorded, so a run that fails reports nothing and leaves every hour to the
 * next, and a concurrent or repeated run waits and then finds the hours done; the event id
 * names the hour, so even a lost cursor could not send one twice. A tenant's first run starts
 * at the last closed hour (earlier ones, mostly before its URL was set, are not sent). A refused
 * URL leaves the cursor before the hour it could not send, which goes out once the URL is fixed.
 *
 * @param opts.now Unix ms the run counts closed hours at (the sweep's time; the clock if earlier).
 * @param opts.maxHours hours with usage sent at most. @default MAX_ROLLUP_HOURS_PER_RUN
 * @example
 * await withTenant(client, tenantId, (db) => reportUsageRollups(db, notifier, { now: Date.now() }));
 */
export async function reportUsageRollups(
  db: TenantDb,
  notifier: BillingNotifier,
  opts: { now: number; maxHours?: number },
): Promise<RollupReport> {
  const [tenant] = await db
    .select({ url: sql<string | null>`${tenants.settings}->>'billingWebhookUrl'` })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  if (!tenant?.url) return { sent: 0, reportedThrough: null };

  const closed = closedThrough(Math.min(opts.now, Date.now()));
  await db
    .insert(usageReportCursors)
    .values({ tenantId: db.tenantId, reportedThrough: new Date(closed.getTime() - HOUR_MS) })
    .onConflictDoNothing();
  const [cursor] = await db
    .select({ reportedThrough: usageReportCursors.reportedThrough })
    .from(usageReportCursors)
    .where(eq(usageReportCursors.tenantId, db.tenantId))
    .for("update");
  if (!cursor) throw new Error("reportUsageRollups: cursor row not found after insert");
  if (cursor.reportedThrough >= closed) return { sent: 0, reportedThrough: cursor.reportedThrough };

  const maxHours = opts.maxHours ?? MAX_ROLLUP_HOURS_PER_RUN;
  const hours = await hoursWithUsage(db, cursor.reportedThrough, closed, maxHours);
  const last = hours.at(-1);
  // A full page may have more hours after it: report up to its last hour, the rest next run.
  let through = hours.length === maxHours && last ? new Date(last.getTime() + HOUR_MS) : closed;
  let sent = 0;
  for (const payload of await hourPayloads(db, cursor.reportedThrough, through)) {
    const delivery = await enqueueBillingWebhook(db, notifier, {
      eventId: rollupEventId(new Date(payload.from)),
      eventType: "usage.rollup",
      url: tenant.url,
      payload,
    });
    if (!delivery) {
      through = new Date(payload.from);
      break;
    }
    if (delivery.created) sent++;
  }
  await db
    .update(usageReportCursors)
    .set({ reportedThrough: through })
    .where(eq(usageReportCursors.tenantId, db.tenantId));
  return { sent, reportedThrough: through };
}

/** The first `limit` hours in [from, to) with any usage, oldest first. */
async function hoursWithUsage(db: TenantDb, from: Date, to: Date, limit: number): Promise<Date[]> {
  const rows = await db
    .selectDistinct({ hour: usageRollups.hour })
    .from(usageRollups)
    .where(
      and(eq(usageRollups.tenantId, db.tenantId), gte(usageRollups.hour, from), lt(usageRollups.hour, to)),
    )
    .orderBy(asc(usageRollups.hour))
    .limit(limit);
  return rows.map((row) => row.hour);
}

/** One payload per hour with usage in [from, to), oldest first, summed from the rollups. */
async function hourPayloads(db: TenantDb, from: Date, to: Date): Promise<UsageRollupPayload[]> {
  const rows = await db
    .select({
      hour: usageRollups.hour,
      meter: usageRollups.meter,
      model: usageRollups.model,
      quantity: sql<number>`sum(${usageRollups.quantity})`.mapWith(Number),
      costMicroUsd: sql<number>`sum(${usageRollups.costMicroUsd})`.mapWith(Number),
      events: sql<number>`sum(${usageRollups.events})`.mapWith(Number),
    })
    .from(usageRollups)
    .where(
      and(eq(usageRollups.tenantId, db.tenantId), gte(usageRollups.hour, from), lt(usageRollups.hour, to)),
    )
    .groupBy(usageRollups.hour, usageRollups.meter, usageRollups.model)
    .orderBy(asc(usageRollups.hour), asc(usageRollups.meter), asc(usageRollups.model));

  const payloads = new Map<number, UsageRollupPayload>();
  for (const row of rows) {
    const start = row.hour.getTime();
    let payload = payloads.get(start);
    if (!payload) {
      payload = {
        tenantId: db.tenantId,
        from: row.hour.toISOString(),
        to: new Date(start + HOUR_MS).toISOString(),
        costMicroUsd: 0,
        events: 0,
        meters: [],
        lines: [],
      };
      payloads.set(start, payload);
    }
    const totals = { quantity: row.quantity, costMicroUsd: row.costMicroUsd, events: row.events };
    const unit = METER_UNITS[row.meter];
    payload.lines.push({ meter: row.meter, model: row.model, unit, ...totals });
    payload.costMicroUsd += row.costMicroUsd;
    payload.events += row.events;
    // Rows come ordered by meter within the hour, so a meter's lines are adjacent.
    const meter = payload.meters.at(-1);
    if (meter?.meter === row.meter) {
      meter.quantity += row.quantity;
      meter.costMicroUsd += row.costMicroUsd;
      meter.events += row.events;
    } else {
      payload.meters.push({ meter: row.meter, unit, ...totals });
    }
  }
  return [...payloads.values()];
}
