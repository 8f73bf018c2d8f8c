import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { webhookDeliveries } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadDelivery } from "./load";
import { toWebhookDeliveryResponse, webhookDeliverySchema } from "./schemas";

const route = createRoute({
  operationId: "replayWebhookDelivery",
  tags: ["webhooks"],
  method: "post",
  path: "/v1/webhook-deliveries/{id}/replay",
  summary: "Send a failed or delivered webhook again",
  description:
    "Sets the delivery back to pending and queues a new attempt, with the same event id and body (signed " +
    "afresh). Attempts keep counting. A delivery that is still pending is 409: it is already queued.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "webhook delivery") }) },
  responses: {
    202: {
      description: "Queued; the delivery as it now stands.",
      content: { "application/json": { schema: webhookDeliverySchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

export function registerReplayWebhookDelivery(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "webhooks:write");
    const db = c.get("db");
    // The row lock makes a concurrent replay wait, then find the row pending and answer 409.
    const row = await loadDelivery(db, c.req.valid("param").id, { forUpdate: true });
    if (row.status === "pending") {
      throw new ApiError("CONFLICT", { detail: "The delivery is pending: an attempt is already queued." });
    }
    const [updated] = await db
      .update(webhookDeliveries)
      .set({ status: "pending", nextAttemptAt: null, deliveredAt: null })
      .where(eq(webhookDeliveries.id, row.id))
      .returning();
    if (!updated) throw new Error("replay: update returned no row");
    // Sent before the commit; a consumer that arrives first finds the row locked and retries.
    await c.env.JOBS.send({ type: "webhook_delivery", tenantId: db.tenantId, deliveryId: row.id });
    await audit(c, {
      action: "webhook_delivery.replay",
      resourceType: "webhook_delivery",
      resourceId: row.id,
      changes: { previousStatus: row.status },
    });
    return c.json(toWebhookDeliveryResponse(updated), 202);
  });
}
