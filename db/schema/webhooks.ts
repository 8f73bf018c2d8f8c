import { index, integer, jsonb, pgTable, smallint, text, timestamp, unique } from "drizzle-orm/pg-core";
import { id, oneOf, tenantKey, tenantPolicies, timestamps } from "./columns";
import { tenantId } from "./tenants";

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

/**
 * One signed webhook to a tenant's URL (an async task's completion, later usage and budget
 * events) and its delivery log. `event_id` is derived from the work that caused it, so a
 * redelivered queue message or a retried job never sends a second, different event.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    ...id,
    ...tenantId,
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    url: text("url").notNull(),
    payload: jsonb("payload").notNull(),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: smallint("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    tenantKey("webhook_deliveries", t),
    unique("webhook_deliveries_tenant_id_event_id_key").on(t.tenantId, t.eventId),
    index("webhook_deliveries_status_next_attempt_at_idx").on(t.status, t.nextAttemptAt),
    oneOf("webhook_deliveries_status_check", t.status, WEBHOOK_DELIVERY_STATUSES),
    ...tenantPolicies(),
  ],
);
