import type { Config, Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import { failDeadAgentTask } from "./agent-task";
import { jobMessage } from "./message";
import { failDeadRagIngest } from "./rag-ingest";
import { failWebhookDelivery } from "./webhook-delivery";

/**
 * Jobs that exhausted their retries. Housekeeping jobs are re-issued by the next cron tick,
 * so the dead letter is recorded for operators and acknowledged. A dead webhook delivery is
 * marked failed in the tenant's delivery log (the tenant can replay it), a dead document
 * ingestion marks the document failed (the tenant can retry it); if that write fails
 * the message is retried as far as the DLQ consumer's max_retries allows.
 */
export async function handleDeadJobs(
  batch: MessageBatch<unknown>,
  env: Env,
  config: Config,
  logger: Logger,
): Promise<void> {
  for (const message of batch.messages) {
    logger.error("job exhausted its retries", { messageId: message.id, attempts: message.attempts });
    const parsed = jobMessage.safeParse(message.body);
    if (parsed.success && parsed.data.type === "agent_task") {
      try {
        const marked = await failDeadAgentTask(env, parsed.data);
        logger.warn("agent task failed for good", { taskId: parsed.data.taskId, marked });
      } catch (error) {
        logger.error("could not mark the agent task failed", {
          taskId: parsed.data.taskId,
          error: error instanceof Error ? error.message : String(error),
        });
        message.retry();
        continue;
      }
    }
    if (parsed.success && parsed.data.type === "rag_ingest") {
      try {
        const marked = await failDeadRagIngest(config, parsed.data, message.attempts);
        logger.warn("document ingestion failed for good", { documentId: parsed.data.documentId, marked });
      } catch (error) {
        logger.error("could not mark the document failed", {
          documentId: parsed.data.documentId,
          error: error instanceof Error ? error.message : String(error),
        });
        message.retry();
        continue;
      }
    }
    if (parsed.success && parsed.data.type === "webhook_delivery") {
      try {
        const marked = await failWebhookDelivery(config, parsed.data);
        logger.warn("webhook delivery failed for good", { deliveryId: parsed.data.deliveryId, marked });
      } catch (error) {
        logger.error("could not mark the webhook delivery failed", {
          deliveryId: parsed.data.deliveryId,
          error: error instanceof Error ? error.message : String(error),
        });
        message.retry();
        continue;
      }
    }
    message.ack();
  }
}
