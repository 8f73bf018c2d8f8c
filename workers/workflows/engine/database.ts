import { connect } from "../../../db/client";
import { type TenantDb, withTenant } from "../../../db/tenant";
import type { Config } from "../../env";

/** One tenant transaction on a connection of its own, closed afterwards. */
export async function inTenant<T>(
  config: Config,
  tenantId: string,
  fn: (db: TenantDb) => Promise<T>,
): Promise<T> {
  const client = await connect(config);
  try {
    return await withTenant(client, tenantId, fn);
  } finally {
    client.end().catch(() => undefined);
  }
}
