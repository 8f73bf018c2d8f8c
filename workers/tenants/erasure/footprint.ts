import type { Client } from "@neondatabase/serverless";
import { apiKeys, tenants, users } from "../../../db/schema/tenants";
import { withTenant } from "../../../db/tenant";

/**
 * What names a tenant outside PostgreSQL: Redis keys are built from the tenant id, its users'
 * ids and sign-in names and its API keys' hashes. Read before the rows go, since nothing else
 * can recover them afterwards.
 */
export interface TenantFootprint {
  tenantId: string;
  /** The tenant exists and is not deleted: erasing it would be a mistake. */
  live: boolean;
  /** Null when the tenant's rows are gone already (a redelivered erasure). */
  slug: string | null;
  userIds: string[];
  emails: string[];
  keyHashes: string[];
}

export async function readFootprint(client: Client, tenantId: string): Promise<TenantFootprint> {
  return withTenant(client, tenantId, async (db) => {
    const [tenant] = await db.select({ slug: tenants.slug, deletedAt: tenants.deletedAt }).from(tenants);
    const people = await db.select({ id: users.id, email: users.email }).from(users);
    const keys = await db.select({ hash: apiKeys.keyHash }).from(apiKeys);
    return {
      tenantId,
      live: tenant !== undefined && tenant.deletedAt === null,
      slug: tenant?.slug ?? null,
      userIds: people.map((user) => user.id),
      emails: people.map((user) => user.email),
      keyHashes: keys.map((key) => key.hash),
    };
  });
}
