import type { Logger } from "../../workers/lib/logger";

/**
 * Jobs that exhausted their retries. Housekeeping jobs are re-issued by the next cron tick,
 * so the dead letter is recorded for operators and acknowledged.
 */
export async function handleDeadJobs(batch: MessageBatch<unknown>, logger: Logger): Promise<void> {
  for (const message of batch.messages) {
    logger.error("job exhausted its retries", { messageId: message.id, attempts: message.attempts });
    message.ack();
  }
}
