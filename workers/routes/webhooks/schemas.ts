import { z } from "@hono/zod-openapi";
import { WEBHOOK_DELIVERY_STATUSES, type webhookDeliveries } from "../../../db/schema";
import { iso, timestamp } from "../../lib/schemas";

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

export const webhookDeliverySchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    eventId: z.string().openapi({
      description:
        "Sent as `Meridian-Event-Id`; the same across retries and replays, so receivers deduplicate on it.",
      example: "agent_task.completed:0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d",
    }),
    eventType: z.string().openapi({ example: "agent_task.completed" }),
    url: z.string().openapi({ example: "https://hooks.example.com/meridian" }),
    payload: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The event's `data`, as sent inside the envelope." }),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES).openapi({
      description:
        "pending: waiting for its first or next attempt. delivered: a 2xx answer was recorded; never sent again " +
        "unless replayed. failed: retries ran out (or the URL is refused); replay to try again.",
      example: "delivered",
    }),
    attempts: z
      .number()
      .int()
      .openapi({ description: "HTTP attempts so far, replays included.", example: 2 }),
    lastStatusCode: z.number().int().nullable().openapi({
      description: "The receiver's last HTTP status; null if it was never reached.",
      example: 200,
    }),
    lastError: z
      .string()
      .nullable()
      .openapi({ description: "Why the last attempt failed; null after a success.", example: null }),
    nextAttemptAt: timestamp
      .nullable()
      .openapi({ description: "When the queue retries a failed attempt; null when none is scheduled." }),
    deliveredAt: timestamp.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("WebhookDelivery");

export type WebhookDeliveryResponse = z.infer<typeof webhookDeliverySchema>;

export function toWebhookDeliveryResponse(row: WebhookDelivery): WebhookDeliveryResponse {
  return {
    id: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    url: row.url,
    payload: row.payload as Record<string, unknown>,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    nextAttemptAt: row.nextAttemptAt ? iso(row.nextAttemptAt) : null,
    deliveredAt: row.deliveredAt ? iso(row.deliveredAt) : null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export const signingSecretSchema = z
  .object({
    secret: z.string().openapi({
      description:
        "HMAC-SHA256 key for `Meridian-Signature` (the whole string, as UTF-8). Treat it like a password.",
      example: "whsec_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }),
  })
  .openapi("WebhookSigningSecret");

export type SigningSecretResponse = z.infer<typeof signingSecretSchema>;
