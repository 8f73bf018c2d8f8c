/**
 * The events Meridian sends to tenants' webhook URLs. A closed list so a typo cannot ship a
 * type no receiver listens for.
 */
export const WEBHOOK_EVENT_TYPES = [
  "agent_task.completed",
  "agent_task.failed",
  "agent_task.cancelled",
  "budget.threshold_crossed",
  "usage.rollup",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The JSON body of every webhook. `id` is the event id, stable across retries and replays. */
export interface WebhookEnvelope {
  id: string;
  type: string;
  /** When the event was recorded (the delivery row's creation), not when this attempt ran. */
  createdAt: string;
  data: unknown;
}

/**
 * The body sent for a delivery row. Built from stored values only, so every attempt and every
 * replay sends the same bytes for the same event.
 */
export function webhookBody(row: {
  eventId: string;
  eventType: string;
  createdAt: Date;
  payload: unknown;
}): string {
  const envelope: WebhookEnvelope = {
    id: row.eventId,
    type: row.eventType,
    createdAt: row.createdAt.toISOString(),
    data: row.payload,
  };
  return JSON.stringify(envelope);
}

/** The request headers Meridian sends with a webhook, in the case receivers see them documented. */
export const WEBHOOK_HEADERS = {
  signature: "Meridian-Signature",
  eventId: "Meridian-Event-Id",
  eventType: "Meridian-Event-Type",
} as const;

export const WEBHOOK_USER_AGENT = "Meridian-Webhooks/1";
