/**
 * Bulk seeding for bench/rag-search: documents and leaf chunks written straight into PostgreSQL
 * as the table owner, the way one would load an existing corpus: the chunk table's vector, full
 * text and metadata indexes are dropped, the rows inserted in large batches, and the indexes
 * built again from their own definitions (as the migrations made them). Each step is timed.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { newId } from "../../workers/lib/ids.ts";
import { estimateTokens } from "../../workers/rag/chunk/tokens.ts";
import { hashedVector, LOCAL_EMBEDDING_MODEL } from "../../workers/rag/embed/local.ts";
import { type Corpus, passage, seededRandom } from "./corpus.ts";

export const DIM = 384;
export const PRODUCTS = 10;
const LANGS = ["en", "de", "fr", "es"];

/** The indexes rebuilt after the load: building one over all rows is far faster than growing it row by row. */
const REBUILT_INDEXES = ["chunks_embedding_384_hnsw_idx", "chunks_metadata_idx", "chunks_content_tsv_idx"];

export interface SeedTenant {
  id: string;
  collectionIds: string[];
}

export interface SeededDocument {
  id: string;
  tenantId: string;
  collectionId: string;
  topic: number;
  metadata: { product: string; lang: string; year: number };
}

export interface SeedOptions {
  tenants: SeedTenant[];
  chunksPerTenant: number;
  chunksPerDocument: number;
  /** Words per chunk. */
  chunkWords: number;
  corpus: Corpus;
  seed: number;
}

export interface SeedResult {
  documents: SeededDocument[];
  chunks: number;
  /** Step → milliseconds, in the order the steps ran. */
  timings: [string, number][];
}

const ROWS_PER_INSERT = 1000;

/**
 * Seeds `chunksPerTenant` leaf chunks for every tenant, spread evenly over its collections, in
 * documents of `chunksPerDocument` chunks. Each document has a topic and metadata (`product`
 * p0-p9, `lang`, `year`) that its chunks copy, as ingestion does. Embeddings are the offline
 * model's (`hashedVector`) of each chunk's text, so the API embeds queries into the same space.
 *
 * @throws the driver's error (after a rollback: the tables are as they were, indexes included).
 */
export async function seedChunks(owner: pg.Client, opts: SeedOptions): Promise<SeedResult> {
  const timings: [string, number][] = [];
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await fn();
    timings.push([name, performance.now() - started]);
    return value;
  };
  const random = seededRandom(opts.seed);
  const documents: SeededDocument[] = [];
  for (const tenant of opts.tenants) {
    const docsPerTenant = Math.ceil(opts.chunksPerTenant / opts.chunksPerDocument);
    for (let d = 0; d < docsPerTenant; d++) {
      documents.push({
        id: newId(),
        tenantId: tenant.id,
        collectionId: tenant.collectionIds[d % tenant.collectionIds.length] as string,
        topic: Math.floor(random() * opts.corpus.topics.length),
        metadata: {
          product: `p${Math.floor(random() * PRODUCTS)}`,
          lang: LANGS[Math.floor(random() * LANGS.length)] as string,
          year: 2019 + Math.floor(random() * 8),
        },
      });
    }
  }

  // One transaction: a run stopped half-way rolls back to the empty tables with their indexes.
  await owner.query("begin");
  let chunks = 0;
  try {
    const { rows: indexes } = await owner.query<{ indexname: string; indexdef: string }>(
      "select indexname, indexdef from pg_indexes where tablename = 'chunks' and indexname = any($1)",
      [REBUILT_INDEXES],
    );
    if (indexes.length !== REBUILT_INDEXES.length) throw new Error(`chunks lacks some of ${REBUILT_INDEXES}`);
    await owner.query(`drop index ${indexes.map((i) => i.indexname).join(", ")}`);
    await step("documents (insert)", () =>
      owner.query(
        `insert into documents (id, tenant_id, collection_id, title, mime_type, content_hash, size_bytes,
                                status, chunk_count, metadata)
         select id, tenant_id, collection_id, title, 'text/markdown', content_hash, 0, 'indexed', $5, metadata
           from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $6::text[], $7::jsonb[])
             as t(id, tenant_id, collection_id, title, content_hash, metadata)`,
        [
          documents.map((d) => d.id),
          documents.map((d) => d.tenantId),
          documents.map((d) => d.collectionId),
          documents.map((_, i) => `bench document ${i + 1}`),
          opts.chunksPerDocument,
          documents.map(() => randomBytes(32).toString("hex")),
          documents.map((d) => JSON.stringify(d.metadata)),
        ],
      ),
    );

    // Making the next batch (text and its vector) overlaps with inserting the previous one.
    let pending: Promise<unknown> = Promise.resolve();
    const started = performance.now();
    let batch: unknown[][] = [];
    const flush = async () => {
      await pending;
      const columns = batch;
      batch = [];
      pending = owner.query(
        `insert into chunks (id, tenant_id, document_id, collection_id, role, ordinal, content, token_count,
                             start_offset, end_offset, embedding, embedding_model, embedding_dim, metadata)
         select id, tenant_id, document_id, collection_id, 'leaf', ordinal, content, token_count,
                start_offset, end_offset, embedding::vector, '${LOCAL_EMBEDDING_MODEL}', ${DIM}, metadata
           from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::int[],
                       $8::int[], $9::int[], $10::text[], $11::jsonb[])
             as t(id, tenant_id, document_id, collection_id, ordinal, content, token_count,
                  start_offset, end_offset, embedding, metadata)`,
        columns,
      );
    };
    for (const doc of documents) {
      let offset = 0;
      const metadata = JSON.stringify(doc.metadata);
      for (let ordinal = 0; ordinal < opts.chunksPerDocument; ordinal++) {
        if (batch.length === 0) batch = Array.from({ length: 11 }, () => []);
        const content = passage(opts.corpus, random, doc.topic, opts.chunkWords);
        const vector = hashedVector(content, DIM);
        const row = [
          newId(),
          doc.tenantId,
          doc.id,
          doc.collectionId,
          ordinal,
          content,
          estimateTokens(content),
          offset,
          offset + content.length,
          `[${vector.map((v) => v.toPrecision(9)).join(",")}]`,
          metadata,
        ];
        row.forEach((value, c) => {
          (batch[c] as unknown[]).push(value);
        });
        offset += content.length + 1;
        chunks++;
        if ((batch[0] as unknown[]).length === ROWS_PER_INSERT) await flush();
      }
    }
    if (batch.length > 0) await flush();
    await pending;
    timings.push(["chunks (text + vector + insert, overlapped)", performance.now() - started]);

    // Large enough for the HNSW graph to stay in memory while it is built (pgvector warns and
    // slows down otherwise); local to this transaction.
    await owner.query("set local maintenance_work_mem = '1GB'");
    for (const index of indexes) {
      await step(`index ${index.indexname}`, () => owner.query(index.indexdef));
    }
    await step("commit", () => owner.query("commit"));
  } catch (error) {
    await owner.query("rollback").catch(() => undefined);
    throw error;
  }
  // Now rather than by autovacuum in the middle of the measurements: statistics, visibility
  // map and hint bits, as a table that has been live for a while has them.
  await step("vacuum (analyze)", () => owner.query("vacuum (analyze) chunks, documents"));
  return { documents, chunks, timings };
}
