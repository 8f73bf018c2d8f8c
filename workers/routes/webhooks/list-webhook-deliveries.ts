import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { WEBHOOK_DELIVERY_STATUSES, webhookDeliveries } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { toWebhookDeliveryResponse, webhookDeliverySchema } from "./schemas";

const query = pageQuery.extend({
  status: z
    .enum(WEBHOOK_DELIVERY_STATUSES)
    .optional()
    .openapi({ description: "Only deliveries with this status." }),
  // Not an enum: event types are added over time, and an unknown one simply matches nothing.
  eventType: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "Only deliveries of this event type.", example: "agent_task.completed" }),
});

const page = pageOf(webhookDeliverySchema, "WebhookDeliveryPage");
export type ListWebhookDeliveriesResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listWebhookDeliveries",
  tags: ["webhooks"],
  method: "get",
  path: "/v1/webhook-deliveries",
  summary: "The webhook delivery log, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of deliveries.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListWebhookDeliveries(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "webhooks:read");
    const db = c.get("db");
    const { limit, cursor, status, eventType } = c.req.valid("query");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use the indexes.
    const filters: SQL[] = [eq(webhookDeliveries.tenantId, db.tenantId)];
    if (after) filters.push(lt(webhookDeliveries.id, after));
    if (status) filters.push(eq(webhookDeliveries.status, status));
    if (eventType) filters.push(eq(webhookDeliveries.eventType, eventType));
    const rows = await db
      .select()
      .from(webhookDeliveries)
      .where(and(...filters))
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toWebhookDeliveryResponse), nextCursor }, 200);
  });
}
