import type { Env } from "../../workers/env";
import type { JobMessage } from "./message";

/** How long a soft-deleted row can be restored before the purge removes it. */
export const SOFT_DELETE_RETENTION_DAYS = 30;

/**
 * wrangler.toml's frequent cron: the remote MCP servers' health check, the stale-ingestion
 * sweep and the release of expired budget holds. The other one, at minute 17, is hourly
 * housekeeping and the usage-rollup webhooks (the hour that ended 17 minutes ago is closed).
 */
export const FREQUENT_CRON = "*/15 * * * *";

/** The cron triggers: enqueue the work rather than run it inside the scheduled event. */
export async function scheduled(controller: ScheduledController, env: Env): Promise<void> {
  const requestedAt = new Date(controller.scheduledTime).toISOString();
  const jobs: JobMessage[] =
    controller.cron === FREQUENT_CRON
      ? [
          { type: "mcp_health_sweep", requestedAt },
          { type: "rag_stale_sweep", requestedAt },
          { type: "budget_reservation_sweep", requestedAt },
        ]
      : [
          { type: "purge_soft_deleted", olderThanDays: SOFT_DELETE_RETENTION_DAYS, requestedAt },
          { type: "usage_rollup_sweep", requestedAt },
        ];
  await env.JOBS.sendBatch(jobs.map((body) => ({ body })));
}
