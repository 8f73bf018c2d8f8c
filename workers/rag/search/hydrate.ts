import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
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

/** What one hydrated row holds; `distance` is the vector search's, when the chunks came from one. */
function hydratedSelection(distance: SQL) {
  return {
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
    distance: sql<number | string | null>`${distance}`,
  };
}

/**
 * The chunks (with documents and, with `includeParents`, parents) a select narrows down with
 * `where` or a join. Parents come from a join on the leaf's `parent_id`, so a search costs the
 * same round trips whether or not its leaves have parents.
 */
function selectHydrated(db: TenantDb, includeParents: boolean, distance: SQL = sql`null`) {
  const parentJoin = and(
    eq(parents.tenantId, chunks.tenantId),
    eq(parents.id, chunks.parentId),
    // Without parents the join still runs but matches nothing: one query shape for both.
    includeParents ? sql`true` : sql`false`,
  );
  return db
    .select(hydratedSelection(distance))
    .from(chunks)
    .innerJoin(documents, liveDocumentJoin)
    .leftJoin(parents, parentJoin)
    .$dynamic();
}

type HydratedRow = Awaited<ReturnType<ReturnType<typeof selectHydrated>["execute"]>>[number];

function toHydrated(row: HydratedRow): HydratedChunk {
  return {
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
  };
}

/**
 * The content, document and (with `includeParents`) parent passage of each chunk, by id, in one
 * query.
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
  const rows = await selectHydrated(db, includeParents).where(
    and(eq(chunks.tenantId, db.tenantId), inArray(chunks.id, [...chunkIds])),
  );
  return new Map(rows.map((row) => [row.chunkId, toHydrated(row)]));
}

/**
 * The chunks a statement yielding `id` and `distance` rows finds (a vector search), hydrated in
 * that same statement, so a search that needs nothing else costs one round trip. A chunk the
 * statement yields twice comes back twice.
 *
 * @example
 * const rows = await hydrateFound(db, vectorSearchQuery(db, scope, group, 10), true);
 */
export async function hydrateFound(
  db: TenantDb,
  found: SQL,
  includeParents: boolean,
): Promise<{ chunk: HydratedChunk; distance: number }[]> {
  const rows = await selectHydrated(db, includeParents, sql`found.distance`)
    .innerJoin(sql`(${found}) as found`, sql`found.id = ${chunks.id}`)
    .where(eq(chunks.tenantId, db.tenantId));
  return rows.map((row) => ({ chunk: toHydrated(row), distance: Number(row.distance) }));
}
