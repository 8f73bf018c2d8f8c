import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, oneOf, tenantKey, tenantPolicies } from "./columns";

/**
 * Billing records outlive their tenant, like audit rows: no foreign key cascades them away when a
 * tenant is erased; `meridian_erase_tenant` strips who caused each quantity (user, API key)
 * and keeps what was used, when and at what cost (see docs/data-model.md).
 */
const billedTenantId = { tenantId: uuid("tenant_id").notNull() };

/** What a usage event counts; each meter has one unit, so quantities are only summed per meter. */
export const USAGE_METERS = [
  "model_input_tokens",
  "model_output_tokens",
  "model_cache_write_tokens",
  "model_cache_read_tokens",
  "embedding_tokens",
  "chunks",
  "tool_calls",
  "workflow_steps",
  "documents",
  "storage_bytes",
] as const;
export type UsageMeter = (typeof USAGE_METERS)[number];

export const USAGE_UNITS = ["tokens", "chunks", "calls", "steps", "documents", "bytes"] as const;

/**
 * One billable quantity of one work item. `event_key` is derived from the work item (a run's
 * model call, a document generation, a tool execution), never minted per attempt, so a retried
 * or redelivered item hits `usage_events_tenant_id_event_key_key` and records nothing twice.
 * Rows are never updated: usage is the sum of events.
 */
export const usageEvents = pgTable(
  "usage_events",
  {
    ...id,
    ...billedTenantId,
    /** `<work item>:<meter>`, e.g. `model_call:<run id>:3:model_input_tokens`. */
    eventKey: text("event_key").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
    meter: text("meter", { enum: USAGE_METERS }).notNull(),
    quantity: bigint("quantity", { mode: "number" }).notNull(),
    unit: text("unit", { enum: USAGE_UNITS }).notNull(),
    /** 0 when the meter is not priced (or the model has no price). */
    costMicroUsd: bigint("cost_micro_usd", { mode: "number" }).notNull().default(0),
    model: text("model"),
    agentId: uuid("agent_id"),
    /** What the event is about: `agent_run`, `document`, `mcp_tool_execution`. */
    resourceType: text("resource_type"),
    resourceId: uuid("resource_id"),
    /** Who caused it, when known: a user or an API key (neither for the platform or background work). */
    userId: uuid("user_id"),
    apiKeyId: uuid("api_key_id"),
    ...createdAt,
  },
  (t) => [
    tenantKey("usage_events", t),
    unique("usage_events_tenant_id_event_key_key").on(t.tenantId, t.eventKey),
    index("usage_events_tenant_id_occurred_at_idx").on(t.tenantId, t.occurredAt),
    oneOf("usage_events_meter_check", t.meter, USAGE_METERS),
    oneOf("usage_events_unit_check", t.unit, USAGE_UNITS),
    check("usage_events_quantity_check", sql`${t.quantity} >= 0`),
    check("usage_events_cost_check", sql`${t.costMicroUsd} >= 0`),
    ...tenantPolicies(),
  ],
);

/**
 * Usage summed per hour and per every grouping `GET /v1/usage` offers (meter, model, agent,
 * user, key), maintained in the transaction that records the events, by what the insert
 * actually added. Reports read these instead of the raw events, so they stay fast however many
 * events a tenant has; the raw events are kept for audit and export until
 * `USAGE_EVENTS_RETENTION_DAYS` (see `meridian_purge_usage_events`).
 */
export const usageRollups = pgTable(
  "usage_rollups",
  {
    ...billedTenantId,
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    meter: text("meter", { enum: USAGE_METERS }).notNull(),
    model: text("model"),
    agentId: uuid("agent_id"),
    userId: uuid("user_id"),
    apiKeyId: uuid("api_key_id"),
    quantity: bigint("quantity", { mode: "number" }).notNull(),
    costMicroUsd: bigint("cost_micro_usd", { mode: "number" }).notNull(),
    events: bigint("events", { mode: "number" }).notNull(),
  },
  (t) => [
    // NULLS NOT DISTINCT: an event without a model or agent rolls up into one row, not one per event.
    unique("usage_rollups_key")
      .on(t.tenantId, t.hour, t.meter, t.model, t.agentId, t.userId, t.apiKeyId)
      .nullsNotDistinct(),
    oneOf("usage_rollups_meter_check", t.meter, USAGE_METERS),
    ...tenantPolicies(),
  ],
);
