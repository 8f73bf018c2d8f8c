import type { ConnectionConfig } from "../../db/client";
import { connect } from "../../db/client";
import { purgeSoftDeleted, releaseExpiredReservations } from "../../db/privileged";
import type { Logger } from "../../workers/lib/logger";

/** Hard-deletes soft-deleted rows past retention, across tenants, through the privileged path. */
export async function runPurge(
  config: ConnectionConfig,
  olderThanDays: number,
  logger: Logger,
): Promise<number> {
  const client = await connect(config);
  try {
    const purged = await purgeSoftDeleted(client, olderThanDays);
    const total = purged.reduce((sum, row) => sum + row.purged, 0);
    logger.info("purged soft-deleted rows", { olderThanDays, total, tables: purged });
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
