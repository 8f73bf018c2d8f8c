import type { TenantDb } from "../../db/tenant";
import { ApiError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import type { OutboundPolicy } from "../lib/outbound-fetch";
import { enqueueWebhook, type JobQueue, type WebhookEvent } from "../lib/webhooks";

/** What sending a billing event needs: the jobs queue, the webhook outbound policy, a logger. */
export interface BillingNotifier {
  queue: JobQueue;
  policy: OutboundPolicy;
  logger: Logger;
}

/**
 * Queues one event for the tenant's billing webhook URL (`settings.billingWebhookUrl`) in the
 * caller's tenant transaction, through the signed webhook mechanism (`enqueueWebhook`: delivery
 * log, retries, replay; idempotent on the event id). An event refused (the URL by the outbound
 * policy, which may have changed since the URL was set) is logged and not thrown: the usage
 * being recorded or reported must not roll back because its announcement cannot go out.
 *
 * @returns the delivery and whether this call created it; null when the event was refused.
 * @example
 * await enqueueBillingWebhook(db, notifier, { eventId, eventType: "usage.rollup", url, payload });
 */
export async function enqueueBillingWebhook(
  db: TenantDb,
  notifier: BillingNotifier,
  event: WebhookEvent,
): Promise<{ deliveryId: string; created: boolean } | null> {
  try {
    return await enqueueWebhook(db, notifier.queue, event, { policy: notifier.policy });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    notifier.logger.warn("billing webhook not sent: refused", {
      eventType: event.eventType,
      detail: error.message,
    });
    return null;
  }
}
