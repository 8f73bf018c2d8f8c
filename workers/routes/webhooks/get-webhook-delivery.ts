import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadDelivery } from "./load";
import { toWebhookDeliveryResponse, webhookDeliverySchema } from "./schemas";

const route = createRoute({
  operationId: "getWebhookDelivery",
  tags: ["webhooks"],
  method: "get",
  path: "/v1/webhook-deliveries/{id}",
  summary: "One webhook delivery with its attempts and last result",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "webhook delivery") }) },
  responses: {
    200: { description: "The delivery.", content: { "application/json": { schema: webhookDeliverySchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetWebhookDelivery(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "webhooks:read");
    const row = await loadDelivery(c.get("db"), c.req.valid("param").id);
    return c.json(toWebhookDeliveryResponse(row), 200);
  });
}
