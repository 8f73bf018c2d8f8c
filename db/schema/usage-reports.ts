import { sql } from "drizzle-orm";
import { check, pgTable, primaryKey, timestamp } from "drizzle-orm/pg-core";
import { tenantPolicies, timestamps } from "./columns";
import { tenantId } from "./tenants";

/**
 * How far a tenant's `usage.rollup` webhooks have got (workers/usage/rollup-webhooks.ts): every
 * closed hour before `reported_through` has been sent, or had no usage. One row per tenant,
 * written in the transaction that queues the hours' deliveries, so a failed or missed run
 * leaves the hours for the next one and a repeated run finds them done. Operational state,
 * not a billing record: it goes with the tenant.
 */
export const usageReportCursors = pgTable(
  "usage_report_cursors",
  {
    ...tenantId,
    reportedThrough: timestamp("reported_through", { withTimezone: true }).notNull(),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: "usage_report_cursors_pkey", columns: [t.tenantId] }),
    // Whole hours, as the rollups are; epoch arithmetic, as date_trunc depends on the session's time zone.
    check("usage_report_cursors_hour_check", sql`extract(epoch from ${t.reportedThrough}) % 3600 = 0`),
    ...tenantPolicies(),
  ],
);
