import { and, eq, inArray, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { chunks, documents } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { liveDocumentJoin } from "./candidates";

/** A found leaf chunk as a search returns it, before scoring is attached. */
export interface HydratedChunk {
  chunkId: string;
  documentId: string;
  collectionId: string;
  content: string;
  startOffset: number | null;
  endOffset: number | null;
  page: number | null;
  metadata: Record<string, unknown>;
  document: { title: string | null; source: string | null; mimeType: string | null };
  /** The wider passage the leaf was cut from (small-to-big chunking); null when it has none. */
  parent: { chunkId: string; content: string; startOffset: number | null; endOffset: number | null } | null;
}

const parents = alias(chunks, "parent");

/**
 * The content, document and (with `includeParents`) parent passage of each chunk, by id, in one
 * query: parents come from a join on the leaf's `parent_id`, so a search costs the same round
 * trips whether or not its leaves have parents.
 *
 * @example
 * const byId = await hydrateChunks(db, ranked.map((r) => r.chunkId), true);
 */
export async function hydrateChunks(
  db: TenantDb,
  chunkIds: readonly string[],
  includeParents: boolean,
): Promise<Map<string, HydratedChunk>> {
  if (chunkIds.length === 0) return new Map();
  const parentJoin = and(
    eq(parents.tenantId, chunks.tenantId),
    eq(parents.id, chunks.parentId),
    // Without parents the join still runs but matches nothing: one query shape for both.
    includeParents ? sql`true` : sql`false`,
  );
  const rows = await db
    .select({
      chunkId: chunks.id,
      documentId: chunks.documentId,
      collectionId: chunks.collectionId,
      content: chunks.content,
      startOffset: chunks.startOffset,
      endOffset: chunks.endOffset,
      page: chunks.page,
      metadata: chunks.metadata,
      title: documents.title,
      source: documents.source,
      mimeType: documents.mimeType,
      parentId: parents.id,
      parentContent: parents.content,
      parentStart: parents.startOffset,
      parentEnd: parents.endOffset,
    })
    .from(chunks)
    .innerJoin(documents, liveDocumentJoin)
    .leftJoin(parents, parentJoin)
    .where(and(eq(chunks.tenantId, db.tenantId), inArray(chunks.id, [...chunkIds])));
  return new Map(
    rows.map((row) => [
      row.chunkId,
      {
        chunkId: row.chunkId,
        documentId: row.documentId,
        collectionId: row.collectionId,
        content: row.content,
        startOffset: row.startOffset,
        endOffset: row.endOffset,
        page: row.page,
        metadata: row.metadata,
        document: { title: row.title, source: row.source, mimeType: row.mimeType },
        parent:
          row.parentId !== null && row.parentContent !== null
            ? {
                chunkId: row.parentId,
                content: row.parentContent,
                startOffset: row.parentStart,
                endOffset: row.parentEnd,
              }
            : null,
      },
    ]),
  );
}
