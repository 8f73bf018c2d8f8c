import { and, eq } from "drizzle-orm";
import { webhookDeliveries } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { JobMessage } from "../../../queues/jobs/message";
import { ApiError } from "../errors";
import { checkOutboundUrl, type OutboundPolicy } from "../outbound-fetch";
import type { WebhookEventType } from "./events";

/** Largest event payload stored and sent; a webhook announces, the API serves the details. */
export const MAX_WEBHOOK_PAYLOAD_BYTES = 256 * 1024;

/**
 * Event ids travel in the `Meridian-Event-Id` header, so they are visible ASCII without spaces
 * (no CR/LF can reach a header) and short.
 */
const EVENT_ID = /^[\x21-\x7e]{1,255}$/;

export interface WebhookEvent {
  /**
   * Derived from the work that caused the event (e.g. `agent_task.completed:<taskId>`), so a
   * retried job enqueues the same id and gets no second delivery.
   */
  eventId: string;
  eventType: WebhookEventType;
  url: string;
  /** The envelope's `data`: a JSON object. */
  payload: Record<string, unknown>;
}

/** The slice of a Queue binding (`env.JOBS`) this needs, so tests can pass a recorder. */
export interface JobQueue {
  send(message: JobMessage): Promise<unknown>;
}

/**
 * Records a webhook in the tenant's delivery log and queues its first attempt. Idempotent on
 * `eventId`: the insert is `on conflict (tenant_id, event_id) do nothing`, and only a new row
 * sends a queue message, so the same event never makes a second delivery.
 *
 * Runs in the caller's tenant transaction. The message is sent before that transaction
 * commits; a consumer that gets there first finds no row yet and retries (see the job), and
 * a transaction that rolls back leaves a message that finds nothing and is dropped.
 *
 * @returns the delivery's id, and whether this call created it.
 * @throws {ApiError} UNPROCESSABLE when `url` is refused (see `checkOutboundUrl`), the event id
 *   is malformed, or the payload is not a JSON object or is over {@link MAX_WEBHOOK_PAYLOAD_BYTES}.
 * @example
 * await enqueueWebhook(db, env.JOBS, {
 *   eventId: `agent_task.completed:${task.id}`,
 *   eventType: "agent_task.completed",
 *   url: task.callbackUrl,
 *   payload: { taskId: task.id, runId: task.runId, status: "succeeded" },
 * }, { policy: webhookPolicy(config) });
 */
export async function enqueueWebhook(
  db: TenantDb,
  queue: JobQueue,
  event: WebhookEvent,
  opts: { policy?: OutboundPolicy } = {},
): Promise<{ deliveryId: string; created: boolean }> {
  const url = checkOutboundUrl(event.url, opts.policy).href;
  if (!EVENT_ID.test(event.eventId)) {
    throw new ApiError("UNPROCESSABLE", { detail: "A webhook event id is 1-255 visible ASCII characters." });
  }
  const payload: unknown = event.payload;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new ApiError("UNPROCESSABLE", { detail: "A webhook payload is a JSON object." });
  }
  const json = JSON.stringify(payload);
  if (new TextEncoder().encode(json).byteLength > MAX_WEBHOOK_PAYLOAD_BYTES) {
    throw new ApiError("UNPROCESSABLE", {
      detail: `A webhook payload is limited to ${MAX_WEBHOOK_PAYLOAD_BYTES} bytes of JSON.`,
    });
  }

  const [row] = await db
    .insert(webhookDeliveries)
    .values({
      tenantId: db.tenantId,
      eventId: event.eventId,
      eventType: event.eventType,
      url,
      payload: event.payload,
    })
    .onConflictDoNothing({ target: [webhookDeliveries.tenantId, webhookDeliveries.eventId] })
    .returning({ id: webhookDeliveries.id });
  if (!row) {
    const [existing] = await db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, db.tenantId), eq(webhookDeliveries.eventId, event.eventId)));
    if (!existing) throw new Error("enqueueWebhook: conflicting delivery not found");
    return { deliveryId: existing.id, created: false };
  }
  await queue.send({ type: "webhook_delivery", tenantId: db.tenantId, deliveryId: row.id });
  return { deliveryId: row.id, created: true };
}
