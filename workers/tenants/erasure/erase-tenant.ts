import { connect } from "../../../db/client";
import { eraseTenantRows } from "../../../db/privileged";
import type { Config, Env } from "../../env";
import { redisFor } from "../../lib/redis";
import { eraseObjects } from "../objects";
import { eraseDurableObjects } from "./durable-objects";
import { readFootprint } from "./footprint";
import { eraseRedisKeys } from "./redis-keys";

export interface ErasureReport {
  /** False when the tenant is live (not deleted): nothing was touched. */
  erased: boolean;
  durableObjects: number;
  objects: number;
  redisKeys: number;
  rows: { table: string; affected: number }[];
}

/**
 * Removes everything of a deleted tenant, in the order that keeps each step findable: the
 * Durable Objects (their ids are rows), the documents bucket, Redis (keys are named from rows),
 * and last the rows, whose delete cascades through every tenant table while audit rows and
 * usage records stay, anonymised. Every step is idempotent, so a redelivered job finishes
 * what an interrupted one began.
 */
export async function eraseTenant(env: Env, config: Config, tenantId: string): Promise<ErasureReport> {
  const client = await connect(config);
  try {
    const footprint = await readFootprint(client, tenantId);
    if (footprint.live) return { erased: false, durableObjects: 0, objects: 0, redisKeys: 0, rows: [] };
    const durableObjects = await eraseDurableObjects(env, client, tenantId);
    const objects = await eraseObjects(env.DOCUMENTS, tenantId);
    const redisKeys = await eraseRedisKeys(redisFor(config), footprint);
    const rows = await eraseTenantRows(client, tenantId);
    return { erased: true, durableObjects, objects, redisKeys, rows };
  } finally {
    await client.end().catch(() => undefined);
  }
}
