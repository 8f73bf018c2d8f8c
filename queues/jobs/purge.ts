import type { ConnectionConfig } from "../../db/client";
import { connect } from "../../db/client";
import { purgeSoftDeleted, purgeUsageEvents, releaseExpiredReservations } from "../../db/privileged";
import type { Logger } from "../../workers/lib/logger";

/**
 * Hard-deletes soft-deleted rows past retention, and raw usage events past theirs, across
 * tenants, through the privileged path.
 */
export async function runPurge(
  config: ConnectionConfig & { USAGE_EVENTS_RETENTION_DAYS: number },
  olderThanDays: number,
  logger: Logger,
): Promise<number> {
  const client = await connect(config);
  try {
    const purged = await purgeSoftDeleted(client, olderThanDays);
    purged.push({
      table: "usage_events",
      purged: await purgeUsageEvents(client, config.USAGE_EVENTS_RETENTION_DAYS),
    });
    const total = purged.reduce((sum, row) => sum + row.purged, 0);
    logger.info("purged soft-deleted rows and expired usage events", {
      olderThanDays,
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
