import type { App } from "../../app";
import { registerGetWebhookDelivery } from "./get-webhook-delivery";
import { registerGetWebhookSigningSecret } from "./get-webhook-signing-secret";
import { registerListWebhookDeliveries } from "./list-webhook-deliveries";
import { registerReplayWebhookDelivery } from "./replay-webhook-delivery";
import { registerRotateWebhookSigningSecret } from "./rotate-webhook-signing-secret";

/** The tenant's webhook signing secret and its delivery log; deliveries come from events. */
export function registerWebhookRoutes(app: App) {
  registerGetWebhookSigningSecret(app);
  registerRotateWebhookSigningSecret(app);
  registerListWebhookDeliveries(app);
  registerGetWebhookDelivery(app);
  registerReplayWebhookDelivery(app);
}
