import { and, count, eq, isNull, sql } from "drizzle-orm";
import {
  chunks,
  collections,
  DOCUMENT_STATUSES,
  type DocumentStatus,
  documents,
} from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { ApiError } from "../../lib/errors";

export type CollectionRow = typeof collections.$inferSelect;

/**
 * A live collection of the caller's tenant. RLS hides other tenants' rows, so a foreign id is
 * simply absent: 404, the same answer as an id that never existed.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadCollection(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<CollectionRow> {
  const query = db
    .select()
    .from(collections)
    .where(and(eq(collections.tenantId, db.tenantId), eq(collections.id, id), isNull(collections.deletedAt)));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Collection ${id} not found.` });
  return row;
}

/** Live documents by status and their chunk count. */
export async function collectionStats(db: TenantDb, id: string) {
  const [byStatus, [chunkTotal]] = await Promise.all([
    db
      .select({ status: documents.status, n: count() })
      .from(documents)
      .where(and(eq(documents.collectionId, id), isNull(documents.deletedAt)))
      .groupBy(documents.status),
    db
      .select({ n: count() })
      .from(chunks)
      .innerJoin(documents, and(eq(documents.tenantId, chunks.tenantId), eq(documents.id, chunks.documentId)))
      .where(and(eq(chunks.collectionId, id), isNull(documents.deletedAt))),
  ]);
  const counts = Object.fromEntries(DOCUMENT_STATUSES.map((s) => [s, 0])) as Record<DocumentStatus, number>;
  for (const row of byStatus) counts[row.status] = row.n;
  return { documents: counts, chunks: chunkTotal?.n ?? 0 };
}

/** Whether the collection holds any live document: its embedding model is then fixed. */
export async function hasDocuments(db: TenantDb, id: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql`1` })
    .from(documents)
    .where(and(eq(documents.collectionId, id), isNull(documents.deletedAt)))
    .limit(1);
  return rows.length > 0;
}
