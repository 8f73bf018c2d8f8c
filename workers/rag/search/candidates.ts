import { and, eq, inArray, isNull, type SQL } from "drizzle-orm";
import { chunks, documents } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { filterSql, type SearchFilter } from "./filters";

/** A chunk one retrieval method found, with that method's score (higher is better). */
export interface Candidate {
  chunkId: string;
  score: number;
}

/** What every retrieval method restricts to, whatever it ranks by. */
export interface CandidateScope {
  collectionIds: readonly string[];
  filter?: SearchFilter | undefined;
}

/**
 * The conditions every retrieval method shares: the tenant (explicit, on top of row-level
 * security), the collections, leaf chunks only and the caller's filter. The query must join
 * `documents` with `liveDocumentJoin`, which drops chunks of deleted documents.
 *
 * @example
 * db.select().from(chunks).innerJoin(documents, liveDocumentJoin).where(and(...scopeConditions(db, scope)));
 */
export function scopeConditions(db: TenantDb, scope: CandidateScope): SQL[] {
  const filter = filterSql(scope.filter);
  return [
    eq(chunks.tenantId, db.tenantId),
    inArray(chunks.collectionId, [...scope.collectionIds]),
    eq(chunks.role, "leaf"),
    isNull(documents.deletedAt),
    ...(filter ? [filter] : []),
  ];
}

/** The join from a chunk to its document, on the composite key the foreign key uses. */
export const liveDocumentJoin = and(
  eq(documents.tenantId, chunks.tenantId),
  eq(documents.id, chunks.documentId),
) as SQL;
