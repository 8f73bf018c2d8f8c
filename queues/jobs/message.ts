import { z } from "zod";
import { TRACEPARENT } from "../../workers/observability/tracing/spans";

/**
 * Messages on the `meridian-jobs` queue. Each carries `tenantId` when it concerns one
 * tenant; platform-wide housekeeping carries none. Validated on consume: a malformed
 * message is acknowledged and logged, never retried forever.
 */
export const jobMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("purge_soft_deleted"),
    /** Rows soft-deleted longer ago than this are removed for good. */
    olderThanDays: z.number().int().min(1).max(3650),
    requestedAt: z.string().datetime(),
  }),
  z.object({
    /** One attempt at a webhook delivery; the row in webhook_deliveries holds everything else. */
    type: z.literal("webhook_delivery"),
    tenantId: z.string().uuid(),
    deliveryId: z.string().uuid(),
  }),
  z.object({
    /** Return the budget holds of model calls lost mid-call (their runs' objects died) to the budgets. */
    type: z.literal("budget_reservation_sweep"),
    requestedAt: z.string().datetime(),
  }),
  z.object({
    /** Fan out the health check: one `mcp_health_check` per tenant with remote MCP servers. */
    type: z.literal("mcp_health_sweep"),
    requestedAt: z.string().datetime(),
  }),
  z.object({
    /** Probe one tenant's active remote MCP servers and record their health. */
    type: z.literal("mcp_health_check"),
    tenantId: z.string().uuid(),
    requestedAt: z.string().datetime(),
  }),
  z.object({
    /** An async agent run; the task row and its run hold everything else. */
    type: z.literal("agent_task"),
    tenantId: z.string().uuid(),
    taskId: z.string().uuid(),
  }),
  z.object({
    /** Ingest one knowledge-base document at the generation the sender saw. */
    type: z.literal("rag_ingest"),
    tenantId: z.string().uuid(),
    documentId: z.string().uuid(),
    generation: z.number().int().min(1),
  }),
  z.object({
    /** Remove everything of a deleted tenant (workers/tenants/erasure). */
    type: z.literal("tenant_erasure"),
    tenantId: z.string().uuid(),
    requestedAt: z.string().datetime(),
  }),
  z.object({
    /** Write one requested export of a tenant's data; the tenant_exports row holds its state. */
    type: z.literal("tenant_export"),
    tenantId: z.string().uuid(),
    exportId: z.string().uuid(),
  }),
  z.object({
    /** Find documents whose ingestion has stalled; re-queue or fail each. */
    type: z.literal("rag_stale_sweep"),
    requestedAt: z.string().datetime(),
  }),
  z.object({
    /** Fan out the usage-rollup report: one `usage_rollup_report` per tenant with a billing webhook URL. */
    type: z.literal("usage_rollup_sweep"),
    requestedAt: z.string().datetime(),
  }),
  z.object({
    /** Send one tenant's closed, unreported hours of usage as `usage.rollup` webhooks. */
    type: z.literal("usage_rollup_report"),
    tenantId: z.string().uuid(),
    /** The sweep's time: hours closed by then are reported. */
    requestedAt: z.string().datetime(),
  }),
]);

export type JobMessage = z.infer<typeof jobMessage>;

/**
 * Besides its own fields, a message may carry `traceparent`: the W3C trace context of whatever
 * queued it (a request, another job), added by the traced JOBS binding when tracing is on
 * (workers/observability/tracing/queue.ts). The consumer's span for the message continues that
 * trace. Read apart from `jobMessage`, so no job type declares it and an untraced message is as
 * valid as a traced one.
 */
export const jobTraceContext = z.object({ traceparent: z.string().regex(TRACEPARENT) });
