import type { Client } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import * as schema from "./schema";

/** The role whose grants and RLS policies tenant queries run under. */
export const TENANT_ROLE = "meridian_tenant";

/**
 * Drizzle bound to one open, tenant-scoped transaction. It is the only database handle a
 * route ever receives, so a query cannot run outside the tenant wall.
 */
export type TenantDb = NeonDatabase<typeof schema> & { readonly tenantId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs `fn` inside one transaction scoped to `tenantId`: the role is switched to
 * `meridian_tenant` and `app.tenant_id` is set, both local to the transaction, so RLS
 * filters every statement and nothing leaks to the next user of the connection. Commits
 * when `fn` resolves, rolls back when it throws.
 *
 * The switch is one simple-protocol round trip (BEGIN, SET LOCAL ROLE and set_config
 * together). The tenant id is validated as a UUID before it is inlined.
 *
 * @throws Error when `tenantId` is not a UUID; rethrows whatever `fn` throws.
 * @example
 * const agents = await withTenant(client, tenantId, (db) => db.select().from(schema.agents));
 */
export async function withTenant<T>(
  client: Client,
  tenantId: string,
  fn: (db: TenantDb) => Promise<T>,
): Promise<T> {
  if (!UUID.test(tenantId)) throw new Error("withTenant: tenant id is not a UUID");
  await client.query(
    `BEGIN; SET LOCAL ROLE ${TENANT_ROLE}; SELECT set_config('app.tenant_id', '${tenantId.toLowerCase()}', true)`,
  );
  let result: T;
  try {
    const db = Object.assign(drizzle({ client, schema }), { tenantId });
    result = await fn(db);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  await client.query("COMMIT");
  return result;
}
