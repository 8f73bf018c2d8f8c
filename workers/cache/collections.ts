import { and, eq, inArray, isNull } from "drizzle-orm";
import { collections } from "../../db/schema/rag";
import type { TenantDb } from "../../db/tenant";
import type { Context } from "../app";
import { type CollectionRow, loadCollection } from "../routes/collections/load";
import { type CacheDeps, readManyThrough, readThrough } from "./cache";
import type { CacheScope } from "./keys";
import { invalidateAfterCommit } from "./request";
import { reviveRow } from "./rows";

/** How long a collection's settings are served from the cache without a write to it. @default 300 */
export const COLLECTION_TTL_SECONDS = 300;

const DATES = ["createdAt", "updatedAt", "deletedAt"] as const;

/** One collection's cache. */
export function collectionScope(tenantId: string, collectionId: string): CacheScope {
  return { cache: "collection", tenantId, id: collectionId };
}

function decoder(tenantId: string) {
  return (stored: unknown) => {
    const row = reviveRow<CollectionRow>(stored, tenantId, DATES);
    return row && row.deletedAt === null ? row : null;
  };
}

/**
 * `loadCollection` through the cache: a live collection of the caller's tenant. Only live
 * collections are stored; an update or delete replaces the collection's generation.
 *
 * @throws ApiError NOT_FOUND
 * @example
 * const row = await cachedCollection(cacheDeps(c), db, id);
 */
export function cachedCollection(deps: CacheDeps, db: TenantDb, id: string): Promise<CollectionRow> {
  const scope = collectionScope(db.tenantId, id);
  return readThrough(
    deps,
    { scope, ttlSeconds: COLLECTION_TTL_SECONDS, decode: decoder(db.tenantId), db },
    () => loadCollection(db, id),
  );
}

/**
 * The live collections of the caller's tenant among `ids` (lower-cased), by id, in one Redis
 * round trip and at most one query. Ids that are missing, deleted or another tenant's are absent.
 *
 * @example
 * const found = await cachedCollections(deps, db, ["0190..."]);
 */
export function cachedCollections(
  deps: CacheDeps,
  db: TenantDb,
  ids: readonly string[],
): Promise<Map<string, CollectionRow>> {
  const wanted = [...new Set(ids.map((id) => id.toLowerCase()))];
  const decode = decoder(db.tenantId);
  return readManyThrough(
    deps,
    wanted.map((id) => ({
      scope: { cache: "collection" as const, tenantId: db.tenantId, id },
      ttlSeconds: COLLECTION_TTL_SECONDS,
      decode,
      db,
    })),
    async (missing) => {
      const rows = await db
        .select()
        .from(collections)
        .where(
          and(
            eq(collections.tenantId, db.tenantId),
            inArray(collections.id, missing),
            isNull(collections.deletedAt),
          ),
        );
      return new Map(rows.map((row) => [row.id, row]));
    },
  );
}

/** For every route that writes a collection (update, delete): retired once the request commits. */
export function invalidateCollection(c: Context, collectionId: string): void {
  invalidateAfterCommit(c, collectionScope(c.get("db").tenantId, collectionId));
}
