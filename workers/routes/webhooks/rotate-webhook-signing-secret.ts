import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { rotateSigningSecret, WEBHOOK_SIGNING_KEY_NAME } from "../../lib/webhooks";
import { signingSecretSchema } from "./schemas";

const route = createRoute({
  operationId: "rotateWebhookSigningSecret",
  tags: ["webhooks"],
  method: "post",
  path: "/v1/webhooks/signing-secret/rotate",
  summary: "Replace the webhook signing secret",
  description:
    "The new secret signs every webhook from now on, retries of earlier events included; the old one " +
    "stops signing at once (no overlap). Have receivers accept both secrets while they switch over.",
  security: [{ bearer: [] }],
  responses: {
    200: { description: "The new secret.", content: { "application/json": { schema: signingSecretSchema } } },
    ...problemResponses(401, 403, 429, 500),
  },
});

export function registerRotateWebhookSigningSecret(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "webhooks:write");
    const secret = await rotateSigningSecret(c.get("db"), c.get("config"));
    await audit(c, {
      action: "webhook_signing_secret.rotate",
      resourceType: "webhook_signing_secret",
      resourceId: WEBHOOK_SIGNING_KEY_NAME,
    });
    c.header("cache-control", "no-store");
    return c.json({ secret }, 200);
  });
}
