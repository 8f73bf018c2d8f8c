import { connect } from "../../db/client";
import { withTenant } from "../../db/tenant";
import type { Config } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import { attemptDelivery, markDeliveryFailed, webhookPolicy } from "../../workers/lib/webhooks";

/** Thrown to make the consumer retry the message with its backoff. */
export class WebhookRetry extends Error {
  override name = "WebhookRetry";
}

/**
 * One attempt at a webhook delivery (see `attemptDelivery`). Resolves when the message is done
 * (delivered, already settled, or refused for good); throws `WebhookRetry` after recording a
 * failed attempt, so the consumer retries with `retryDelaySeconds` and, past max_retries, the
 * dead-letter queue marks the delivery failed.
 *
 * @param retryInSeconds the consumer's delay before the next attempt, stored as `nextAttemptAt`.
 */
export async function runWebhookDelivery(
  config: Config,
  job: { tenantId: string; deliveryId: string },
  retryInSeconds: number,
  logger: Logger,
): Promise<void> {
  const client = await connect(config);
  try {
    const outcome = await withTenant(client, job.tenantId, (db) =>
      attemptDelivery(db, config, job.deliveryId, { retryInSeconds, policy: webhookPolicy(config) }),
    );
    const ids = { tenantId: job.tenantId, deliveryId: job.deliveryId };
    switch (outcome.kind) {
      case "delivered":
        logger.info("webhook delivered", { ...ids, status: outcome.statusCode, attempts: outcome.attempts });
        return;
      case "settled":
        logger.info("webhook already settled; nothing sent", { ...ids, status: outcome.status });
        return;
      case "failed":
        if (outcome.permanent) {
          logger.warn("webhook refused for good", { ...ids, attempts: outcome.attempts });
          return;
        }
        throw new WebhookRetry(`attempt ${outcome.attempts} failed: ${outcome.error}`);
      case "busy":
        throw new WebhookRetry("the delivery is locked by another transaction");
      case "missing":
        // Most likely the enqueueing transaction has not committed yet; if it rolled back, the
        // retries run out and the dead letter finds nothing to mark.
        throw new WebhookRetry("the delivery does not exist (yet)");
    }
  } finally {
    await client.end();
  }
}

/** A dead webhook_delivery message: its delivery is marked failed (a replay can revive it). */
export async function failWebhookDelivery(
  config: Config,
  job: { tenantId: string; deliveryId: string },
): Promise<boolean> {
  const client = await connect(config);
  try {
    return await withTenant(client, job.tenantId, (db) => markDeliveryFailed(db, job.deliveryId));
  } finally {
    await client.end();
  }
}
