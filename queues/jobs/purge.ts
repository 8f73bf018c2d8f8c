import type { ConnectionConfig } from "../../db/client";
import { connect } from "../../db/client";
import {
  purgeSoftDeleted,
  purgeUsageEvents,
  releaseExpiredReservations,
  tenantsDueForErasure,
} from "../../db/privileged";
import type { Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import type { JobMessage } from "./message";

/** Tenants handed to erasure per purge (an hourly job: a backlog drains over a few runs). */
const ERASURES_PER_PURGE = 100;

/**
 * Hard-deletes soft-deleted rows past retention, and raw usage events past theirs, across
 * tenants, through the privileged path; tenants past the grace period go to the erasure job,
 * which also clears what they keep outside PostgreSQL.
 */
export async function runPurge(
  env: Pick<Env, "JOBS">,
  config: ConnectionConfig & { USAGE_EVENTS_RETENTION_DAYS: number },
  olderThanDays: number,
  logger: Logger,
): Promise<number> {
  const client = await connect(config);
  try {
    const due = await tenantsDueForErasure(client, olderThanDays, ERASURES_PER_PURGE);
    if (due.length > 0) {
      const requestedAt = new Date().toISOString();
      await env.JOBS.sendBatch(
        due.map((tenantId): { body: JobMessage } => ({
          body: { type: "tenant_erasure", tenantId, requestedAt },
        })),
      );
    }
    const purged = await purgeSoftDeleted(client, olderThanDays);
    purged.push({
      table: "usage_events",
      purged: await purgeUsageEvents(client, config.USAGE_EVENTS_RETENTION_DAYS),
    });
    const total = purged.reduce((sum, row) => sum + row.purged, 0);
    logger.info("purged soft-deleted rows and expired usage events", {
      olderThanDays,
      tenantsToErase: due.length,
      total,
      tables: purged,
    });
    return total;
  } finally {
    await client.end();
  }
}

/** Releases expired budget holds across tenants, through the privileged path. */
export async function runReservationSweep(config: ConnectionConfig, logger: Logger): Promise<number> {
  const client = await connect(config);
  try {
    const released = await releaseExpiredReservations(client);
    if (released > 0) logger.warn("released expired budget reservations", { released });
    return released;
  } finally {
    await client.end();
  }
}
