import type { Config, Env } from "../../workers/env";
import { parseConfig } from "../../workers/env";
import { newLogger } from "../../workers/lib/logger";
import { reportError } from "../../workers/observability/errors/report";
import { telemetryFor } from "../../workers/observability/telemetry";
import { tracingSettings } from "../../workers/observability/tracing/config";
import { traceJob } from "../../workers/observability/tracing/queue";
import { writeTenantExport } from "../../workers/tenants/export/write-export";
import { runAgentTask } from "./agent-task";
import { handleDeadJobs } from "./dlq";
import { runMcpHealthCheck, runMcpHealthSweep } from "./mcp-health";
import { jobMessage } from "./message";
import { runPurge, runReservationSweep } from "./purge";
import { ragIngestConnections, runRagIngest } from "./rag-ingest";
import { runRagStaleSweep } from "./rag-stale-sweep";
import { runTenantErasure } from "./tenant-erasure";
import { runUsageRollupReport, runUsageRollupSweep } from "./usage-rollup-report";
import { runWebhookDelivery, WebhookRetry } from "./webhook-delivery";

export const JOBS_DLQ = "meridian-jobs-dlq";

/** Exponential backoff for a retried message: 10 s, 20 s, 40 s ... capped at 15 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(900, 10 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Consumes `meridian-jobs` (and its dead-letter queue). Each message is handled on its own:
 * success acks it, failure retries it with backoff until the queue's max_retries moves it to
 * the DLQ. Every job is idempotent, so a redelivery repeats no work twice.
 */
export async function handleJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = parseConfig(env);
  try {
    await handleBatch(batch, env, config);
  } finally {
    // The batch's metrics (documents indexed, tool calls, ...) join every other isolate's.
    await telemetryFor(config).flush();
  }
}

async function handleBatch(batch: MessageBatch<unknown>, env: Env, config: Config): Promise<void> {
  const logger = newLogger(config.LOG_LEVEL, { queue: batch.queue });
  if (batch.queue === JOBS_DLQ) return handleDeadJobs(batch, env, config, logger);
  const tracing = tracingSettings(config);
  // The batch's rag_ingest messages share a few connections rather than opening one each.
  const ingestConnections = ragIngestConnections(config);

  // Each message on its own and at the same time: an agent task can take minutes, and must not
  // hold up the rest of its batch.
  await Promise.all(
    batch.messages.map((message) =>
      traceJob(tracing, batch.queue, message, async () => {
        const parsed = jobMessage.safeParse(message.body);
        if (!parsed.success) {
          logger.error("dropping malformed job", {
            messageId: message.id,
            issues: parsed.error.issues.length,
          });
          message.ack();
          return;
        }
        try {
          switch (parsed.data.type) {
            case "purge_soft_deleted":
              await runPurge(env, config, parsed.data.olderThanDays, logger);
              break;
            case "budget_reservation_sweep":
              await runReservationSweep(config, logger);
              break;
            case "webhook_delivery":
              await runWebhookDelivery(config, parsed.data, retryDelaySeconds(message.attempts), logger);
              break;
            case "mcp_health_sweep":
              await runMcpHealthSweep(env, config, parsed.data.requestedAt);
              break;
            case "mcp_health_check":
              await runMcpHealthCheck(config, parsed.data.tenantId, logger);
              break;
            case "agent_task":
              await runAgentTask(env, parsed.data, logger);
              break;
            case "rag_ingest":
              await runRagIngest(env, config, parsed.data, logger, ingestConnections);
              break;
            case "rag_stale_sweep":
              await runRagStaleSweep(env, config, logger);
              break;
            case "tenant_erasure":
              await runTenantErasure(env, config, parsed.data.tenantId, logger);
              break;
            case "tenant_export":
              await writeTenantExport(env, config, parsed.data.tenantId, parsed.data.exportId);
              break;
            case "usage_rollup_sweep":
              await runUsageRollupSweep(env, config, parsed.data.requestedAt);
              break;
            case "usage_rollup_report":
              await runUsageRollupReport(env, config, parsed.data, logger);
              break;
          }
          message.ack();
        } catch (error) {
          logger.warn("job failed; retrying", {
            messageId: message.id,
            attempts: message.attempts,
            error: error instanceof Error ? error.message : String(error),
          });
          message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
          // A webhook receiver that fails is the tenant's problem, retried as designed; anything
          // else thrown here is a fault of ours.
          if (!(error instanceof WebhookRetry)) {
            await reportError(config, error, {
              source: "queue",
              jobType: parsed.data.type,
              tenantId: "tenantId" in parsed.data ? parsed.data.tenantId : undefined,
            });
          }
        }
      }),
    ),
  ).finally(() => ingestConnections.close());
}
