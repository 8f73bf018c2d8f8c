/**
 * Signed webhooks with a delivery log: `enqueueWebhook` records an event and queues it, the
 * jobs queue delivers it (queues/jobs/webhook-delivery.ts), and receivers check it with
 * `verifyWebhookSignature`. See docs/webhooks.md.
 */
export { attemptDelivery, type DeliveryOutcome, markDeliveryFailed } from "./deliver";
export { enqueueWebhook, type JobQueue, MAX_WEBHOOK_PAYLOAD_BYTES, type WebhookEvent } from "./enqueue";
export { WEBHOOK_EVENT_TYPES, WEBHOOK_HEADERS, type WebhookEnvelope, type WebhookEventType } from "./events";
export { webhookPolicy } from "./policy";
export { signWebhook, verifyWebhookSignature } from "./sign";
export {
  ensureSigningSecret,
  getSigningSecret,
  rotateSigningSecret,
  WEBHOOK_SIGNING_KEY_NAME,
} from "./signing-key";
