import type { Env } from "../../workers/env";
import type { JobMessage } from "./message";

/** How long a soft-deleted row can be restored before the purge removes it. */
export const SOFT_DELETE_RETENTION_DAYS = 30;

/** The cron trigger: enqueue housekeeping rather than run it inside the scheduled event. */
export async function scheduled(controller: ScheduledController, env: Env): Promise<void> {
  const job: JobMessage = {
    type: "purge_soft_deleted",
    olderThanDays: SOFT_DELETE_RETENTION_DAYS,
    requestedAt: new Date(controller.scheduledTime).toISOString(),
  };
  await env.JOBS.send(job);
}
