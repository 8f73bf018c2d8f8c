import { and, eq, isNull, sql } from "drizzle-orm";
import { agents, collections, documents, tenants } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { ApiError } from "../lib/errors";
import { quotasOf } from "../lib/limits";

/** What a tenant holds now: the quantities the count and storage quotas cap. */
export interface ResourceCounts {
  agents: number;
  collections: number;
  documents: number;
  storageBytes: number;
}

/** Live (not deleted) agents, collections and documents, and the bytes of the documents' originals. */
export async function resourceCounts(db: TenantDb): Promise<ResourceCounts> {
  const live = (table: typeof agents | typeof collections) =>
    db
      .select({ n: sql<number>`count(*)::int` })
      .from(table)
      .where(and(eq(table.tenantId, db.tenantId), isNull(table.deletedAt)));
  const [[agentRow], [collectionRow], [documentRow]] = await Promise.all([
    live(agents),
    live(collections),
    db
      .select({
        n: sql<number>`count(*)::int`,
        bytes: sql<string>`coalesce(sum(${documents.sizeBytes}), 0)::text`,
      })
      .from(documents)
      .where(and(eq(documents.tenantId, db.tenantId), isNull(documents.deletedAt))),
  ]);
  return {
    agents: agentRow?.n ?? 0,
    collections: collectionRow?.n ?? 0,
    documents: documentRow?.n ?? 0,
    storageBytes: Number(documentRow?.bytes ?? 0),
  };
}

type Counted = "agents" | "collections" | "documents";
const COUNT_QUOTA = {
  agents: "maxAgents",
  collections: "maxCollections",
  documents: "maxDocuments",
} as const;

/**
 * Checks, after the caller inserted (or restored) rows of `resource` in its transaction, that
 * the tenant is still within its quota for them (and, for documents, its storage quota);
 * otherwise throws, rolling the insert back. Writers of one resource queue on a transaction
 * lock, so two concurrent creates cannot both take the last place. Costs one read when the
 * tenant has no such quota.
 *
 * @throws ApiError QUOTA_EXCEEDED (429), `limit` naming the quota
 */
export async function enforceCountQuota(db: TenantDb, resource: Counted): Promise<void> {
  const [tenant] = await db
    .select({ limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  const quotas = quotasOf(tenant?.limits);
  const maxCount = quotas[COUNT_QUOTA[resource]];
  const maxBytes = resource === "documents" ? quotas.maxStorageBytes : null;
  if (maxCount === null && maxBytes === null) return;

  await db.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`quota:${db.tenantId}:${resource}`}, 0))`,
  );
  const counts = await resourceCounts(db);
  if (maxCount !== null && counts[resource] > maxCount) {
    throw new ApiError("QUOTA_EXCEEDED", {
      detail: `The tenant may hold at most ${maxCount} ${resource} (${COUNT_QUOTA[resource]}).`,
      limit: COUNT_QUOTA[resource],
    });
  }
  if (maxBytes !== null && counts.storageBytes > maxBytes) {
    throw new ApiError("QUOTA_EXCEEDED", {
      detail: `The tenant's documents may take at most ${maxBytes} bytes (maxStorageBytes).`,
      limit: "maxStorageBytes",
    });
  }
}
