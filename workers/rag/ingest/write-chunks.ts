import { type Column, getTableName } from "drizzle-orm";
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
 * Writes a document's chunks, `write.planned`, as multi-row inserts inside the caller's
 * transaction, which has cleared the document's earlier chunks (`markIndexed`).
 * Replace-in-one-transaction is what makes ingestion idempotent: however often a job runs, the
 * document ends with exactly one set of chunks, and a search never sees a half-written set.
 * Parents are inserted before their leaves (planned order), so the parent foreign key holds at
 * every row.
 *
 * The statement is put together here rather than by drizzle's insert builder: ingestion's hot
 * path binds 16 values a chunk, and the builder's per-value work took 3-6 ms of CPU for a
 * document of 47 chunks, as long as a tenth of the INSERT itself. Values still go through each
 * column's own driver mapping, and as parameters.
 */
export async function insertChunks(db: TenantDb, write: ChunkWrite): Promise<void> {
  for (const { text, params } of chunkInserts(db.tenantId, write)) await db.$client.query(text, params);
}

/**
 * The multi-row INSERTs (`ROWS_PER_INSERT` rows each) that write `write`'s chunks for
 * `tenantId`, with new ids and parents before their leaves. `insertChunks` sends them; the
 * ingestion bench sends the very same statements as its plain baseline.
 *
 * @throws Error when a chunk precedes its parent or a leaf has no vector.
 */
export function chunkInserts(tenantId: string, write: ChunkWrite): { text: string; params: unknown[] }[] {
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
    // In the order of CHUNK_COLUMNS.
    return [
      id,
      tenantId,
      write.documentId,
      write.collectionId,
      parentId,
      chunk.role,
      chunk.ordinal,
      chunk.content,
      chunk.tokenCount,
      chunk.startOffset,
      chunk.endOffset,
      chunk.page,
      embedding ?? null,
      embedding ? write.embeddingModel : null,
      embedding ? write.embeddingDim : null,
      write.metadata,
    ];
  });
  const statements = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    statements.push(insertStatement(rows.slice(i, i + ROWS_PER_INSERT)));
  }
  return statements;
}

/** The columns a chunk row fills, in the order `insertChunks` lists its values. */
const CHUNK_COLUMNS = [
  chunks.id,
  chunks.tenantId,
  chunks.documentId,
  chunks.collectionId,
  chunks.parentId,
  chunks.role,
  chunks.ordinal,
  chunks.content,
  chunks.tokenCount,
  chunks.startOffset,
  chunks.endOffset,
  chunks.page,
  chunks.embedding,
  chunks.embeddingModel,
  chunks.embeddingDim,
  chunks.metadata,
] as const;

const INSERT_INTO = `insert into "${getTableName(chunks)}" (${CHUNK_COLUMNS.map((c) => `"${c.name}"`).join(", ")}) values `;

/** One multi-row INSERT with numbered placeholders; each value mapped as its column maps it. */
function insertStatement(rows: readonly unknown[][]): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = row.map((value, c) => {
      params.push(value === null ? null : (CHUNK_COLUMNS[c] as Column).mapToDriverValue(value));
      return `$${params.length}`;
    });
    return `(${placeholders.join(", ")})`;
  });
  return { text: INSERT_INTO + tuples.join(", "), params };
}
