import { eq } from "drizzle-orm";
import { chunks, type EmbeddingDim } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { newId } from "../../lib/ids";
import type { PlannedChunk } from "../chunk/chunk-document";

/**
 * Rows per INSERT. Each row binds 15 parameters and a 384-number vector as text (~4 KB), so
 * 500 rows stay far below PostgreSQL's 65,535-parameter limit and a few MB per statement.
 */
const ROWS_PER_INSERT = 500;

export interface ChunkWrite {
  documentId: string;
  collectionId: string;
  /** The document's metadata, copied onto every chunk for search filters. */
  metadata: Record<string, unknown>;
  planned: PlannedChunk[];
  /** Vectors of the leaves, in the order the leaves appear in `planned`. */
  leafVectors: number[][];
  embeddingModel: string;
  embeddingDim: EmbeddingDim;
}

/**
 * Replaces a document's chunks with `write.planned`: delete, then multi-row inserts, inside the
 * caller's transaction. Replace-in-one-transaction is what makes ingestion idempotent: however
 * often a job runs, the document ends with exactly one set of chunks, and a search never sees a
 * half-written set. Parents are inserted before their leaves (planned order), so the parent
 * foreign key holds at every row.
 *
 * @returns the number of chunks written.
 */
export async function replaceChunks(db: TenantDb, write: ChunkWrite): Promise<number> {
  await db.delete(chunks).where(eq(chunks.documentId, write.documentId));
  const idByOrdinal = new Map<number, string>();
  let leaf = 0;
  const rows = write.planned.map((chunk) => {
    const id = newId();
    idByOrdinal.set(chunk.ordinal, id);
    const parentId = chunk.parentOrdinal === null ? null : idByOrdinal.get(chunk.parentOrdinal);
    if (parentId === undefined)
      throw new Error(`chunk ${chunk.ordinal} precedes its parent ${chunk.parentOrdinal}`);
    const embedding = chunk.role === "leaf" ? write.leafVectors[leaf++] : undefined;
    if (chunk.role === "leaf" && !embedding) throw new Error(`no vector for leaf chunk ${chunk.ordinal}`);
    return {
      id,
      tenantId: db.tenantId,
      documentId: write.documentId,
      collectionId: write.collectionId,
      parentId,
      role: chunk.role,
      ordinal: chunk.ordinal,
      content: chunk.content,
      tokenCount: chunk.tokenCount,
      startOffset: chunk.startOffset,
      endOffset: chunk.endOffset,
      page: chunk.page,
      embedding: embedding ?? null,
      embeddingModel: embedding ? write.embeddingModel : null,
      embeddingDim: embedding ? write.embeddingDim : null,
      metadata: write.metadata,
    };
  });
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await db.insert(chunks).values(rows.slice(i, i + ROWS_PER_INSERT));
  }
  return rows.length;
}
