import { connect } from "../../db/client";
import { listBillingWebhookTenants } from "../../db/privileged";
import { withTenant } from "../../db/tenant";
import type { Config, Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import { webhookPolicy } from "../../workers/lib/webhooks";
import { type RollupReport, reportUsageRollups } from "../../workers/usage/rollup-webhooks";
import type { JobMessage } from "./message";

/** Tenants read per page, and queue messages per `sendBatch` call (the Queues limit is 100). */
const PAGE = 1000;
const BATCH = 100;

/**
 * The hourly sweep: lists the active tenants with a billing webhook URL (the privileged function
 * sees across tenants, ids only, a page at a time) and queues one report per tenant carrying
 * the sweep's time, so every tenant counts the same hours as closed and a slow tenant holds up
 * no other.
 */
export async function runUsageRollupSweep(env: Env, config: Config, requestedAt: string): Promise<number> {
  const client = await connect(config);
  let queued = 0;
  try {
    let after: string | null = null;
    for (;;) {
      const tenants = await listBillingWebhookTenants(client, after, PAGE);
      for (let i = 0; i < tenants.length; i += BATCH) {
        const messages = tenants.slice(i, i + BATCH).map((tenantId): { body: JobMessage } => ({
          body: { type: "usage_rollup_report", tenantId, requestedAt },
        }));
        await env.JOBS.sendBatch(messages);
      }
      queued += tenants.length;
      after = tenants.at(-1) ?? null;
      if (tenants.length < PAGE) return queued;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One tenant's report: its closed, unreported hours sent as `usage.rollup` webhooks. */
export async function runUsageRollupReport(
  env: Env,
  config: Config,
  job: { tenantId: string; requestedAt: string },
  logger: Logger,
): Promise<RollupReport> {
  const client = await connect(config);
  try {
    const notifier = { queue: env.JOBS, policy: webhookPolicy(config), logger };
    const report = await withTenant(client, job.tenantId, (db, state) =>
      // A tenant suspended or deleted since the sweep waits: its cursor stays where it is.
      state.tenantActive
        ? reportUsageRollups(db, notifier, { now: Date.parse(job.requestedAt) })
        : Promise.resolve({ sent: 0, reportedThrough: null }),
    );
    if (report.sent > 0) logger.info("usage rollups reported", { tenantId: job.tenantId, ...report });
    return report;
  } finally {
    await client.end().catch(() => undefined);
  }
}
