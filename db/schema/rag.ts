import { relations, type SQL, sql } from "drizzle-orm";
import {
  bigint,
  check,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  smallint,
  text,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { id, oneOf, softDelete, tenantKey, tenantPolicies, timestamps } from "./columns";
import { tenantId, tenants } from "./tenants";

/**
 * Embedding sizes that have an HNSW index (migration `0002_vector_indexes`). Adding one means
 * a migration that creates its index; the CHECK on `collections.embedding_dim` is generated
 * from this list, so a collection can only choose an indexed size.
 */
export const EMBEDDING_DIMS = [384, 768, 1024, 1536, 3072] as const;
export type EmbeddingDim = (typeof EMBEDDING_DIMS)[number];

/** pgvector's HNSW index takes `vector` up to 2,000 dimensions; larger sizes are indexed as `halfvec`. */
const HNSW_VECTOR_MAX_DIM = 2000;

/**
 * Narrows a number (from a request or a collection row) to a supported, indexed dimension.
 *
 * @example
 * if (!isEmbeddingDim(body.dimensions)) throw new ApiError("VALIDATION_FAILED");
 */
export function isEmbeddingDim(value: number): value is EmbeddingDim {
  return (EMBEDDING_DIMS as readonly number[]).includes(value);
}

/**
 * pgvector `vector` without a fixed dimension: one column holds every collection's model, and
 * the per-dimension indexes cast it (see `embeddingExpr`). Values travel as pgvector's text form.
 */
export const vector = customType<{ data: number[]; driverData: string }>({
  dataType() {
    return "vector";
  },
  toDriver(value) {
    return `[${value.join(",")}]`;
  },
  fromDriver(value) {
    return JSON.parse(value) as number[];
  },
});

export const DOCUMENT_STATUSES = ["queued", "parsing", "chunking", "embedding", "indexed", "failed"] as const;

export const collections = pgTable(
  "collections",
  {
    ...id,
    ...tenantId,
    name: text("name").notNull(),
    description: text("description"),
    embeddingProvider: text("embedding_provider").notNull(),
    embeddingModel: text("embedding_model").notNull(),
    embeddingDim: smallint("embedding_dim").$type<EmbeddingDim>().notNull(),
    /** Chunker settings (strategy, size, overlap), so re-chunking reproduces the original split. */
    chunking: jsonb("chunking").$type<Record<string, unknown>>().notNull().default({}),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdBy: uuid("created_by"),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    tenantKey("collections", t),
    check(
      "collections_embedding_dim_check",
      sql`${t.embeddingDim} in (${sql.raw(EMBEDDING_DIMS.join(", "))})`,
    ),
    index("collections_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    ...tenantPolicies(),
  ],
);

export const documents = pgTable(
  "documents",
  {
    ...id,
    ...tenantId,
    collectionId: uuid("collection_id").notNull(),
    title: text("title"),
    /** Where the document came from (URL, file name, connector id). */
    source: text("source"),
    mimeType: text("mime_type"),
    /** Hex SHA-256 of the original bytes: uploading the same file twice to a collection is a no-op. */
    contentHash: text("content_hash").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }),
    /** Extracted text, kept so the pipeline can re-chunk or re-embed without the original upload. */
    content: text("content"),
    status: text("status", { enum: DOCUMENT_STATUSES }).notNull().default("queued"),
    statusReason: text("status_reason"),
    attempts: integer("attempts").notNull().default(0),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdBy: uuid("created_by"),
    ...timestamps,
    ...softDelete,
  },
  (t) => [
    tenantKey("documents", t),
    uniqueIndex("documents_tenant_id_collection_id_content_hash_key")
      .on(t.tenantId, t.collectionId, t.contentHash)
      .where(sql`${t.deletedAt} is null`),
    index("documents_tenant_id_collection_id_id_idx").on(t.tenantId, t.collectionId, t.id),
    index("documents_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    oneOf("documents_status_check", t.status, DOCUMENT_STATUSES),
    foreignKey({
      name: "documents_collection_fk",
      columns: [t.tenantId, t.collectionId],
      foreignColumns: [collections.tenantId, collections.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

export const chunks = pgTable(
  "chunks",
  {
    ...id,
    ...tenantId,
    documentId: uuid("document_id").notNull(),
    /** Denormalised from the document so a search filters on the chunk row alone. */
    collectionId: uuid("collection_id").notNull(),
    /** The enclosing chunk in hierarchical (small-to-big) chunking. */
    parentId: uuid("parent_id"),
    ordinal: integer("ordinal").notNull(),
    content: text("content").notNull(),
    tokenCount: integer("token_count"),
    startOffset: integer("start_offset"),
    endOffset: integer("end_offset"),
    page: integer("page"),
    embedding: vector("embedding"),
    /** Recorded per chunk so a collection can be re-embedded with a new model row by row. */
    embeddingModel: text("embedding_model"),
    /** Selects the partial HNSW index; must equal the vector's length (CHECK below). */
    embeddingDim: smallint("embedding_dim").$type<EmbeddingDim>(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    ...timestamps,
  },
  (t) => [
    tenantKey("chunks", t),
    unique("chunks_tenant_id_document_id_ordinal_key").on(t.tenantId, t.documentId, t.ordinal),
    index("chunks_tenant_id_collection_id_idx").on(t.tenantId, t.collectionId),
    index("chunks_tenant_id_parent_id_idx").on(t.tenantId, t.parentId),
    // Without this a row could claim 384 while holding 768 numbers, and the cast in the 384
    // index would fail the insert (or, worse, the index build).
    check(
      "chunks_embedding_dim_check",
      sql`${t.embedding} is null or (${t.embeddingDim} is not null and vector_dims(${t.embedding}) = ${t.embeddingDim})`,
    ),
    foreignKey({
      name: "chunks_document_fk",
      columns: [t.tenantId, t.documentId],
      foreignColumns: [documents.tenantId, documents.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "chunks_collection_fk",
      columns: [t.tenantId, t.collectionId],
      foreignColumns: [collections.tenantId, collections.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "chunks_parent_fk",
      columns: [t.tenantId, t.parentId],
      foreignColumns: [t.tenantId, t.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/** One retrieval request, kept for evaluation and latency tracking. */
export const ragQueries = pgTable(
  "rag_queries",
  {
    ...id,
    ...tenantId,
    collectionId: uuid("collection_id").notNull(),
    query: text("query").notNull(),
    /** top_k, filters, min_score, ef_search... as the caller sent them. */
    params: jsonb("params").$type<Record<string, unknown>>().notNull().default({}),
    latencyMs: integer("latency_ms"),
    createdBy: uuid("created_by"),
    ...timestamps,
  },
  (t) => [
    tenantKey("rag_queries", t),
    index("rag_queries_tenant_id_collection_id_id_idx").on(t.tenantId, t.collectionId, t.id),
    foreignKey({
      name: "rag_queries_collection_fk",
      columns: [t.tenantId, t.collectionId],
      foreignColumns: [collections.tenantId, collections.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

/** The chunks a query returned, in rank order. */
export const ragSources = pgTable(
  "rag_sources",
  {
    ...id,
    ...tenantId,
    ragQueryId: uuid("rag_query_id").notNull(),
    chunkId: uuid("chunk_id").notNull(),
    score: real("score").notNull(),
    rank: smallint("rank").notNull(),
    ...timestamps,
  },
  (t) => [
    tenantKey("rag_sources", t),
    unique("rag_sources_tenant_id_rag_query_id_rank_key").on(t.tenantId, t.ragQueryId, t.rank),
    index("rag_sources_tenant_id_chunk_id_idx").on(t.tenantId, t.chunkId),
    foreignKey({
      name: "rag_sources_rag_query_fk",
      columns: [t.tenantId, t.ragQueryId],
      foreignColumns: [ragQueries.tenantId, ragQueries.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "rag_sources_chunk_fk",
      columns: [t.tenantId, t.chunkId],
      foreignColumns: [chunks.tenantId, chunks.id],
    }).onDelete("cascade"),
    ...tenantPolicies(),
  ],
);

function assertDim(dim: number): asserts dim is EmbeddingDim {
  if (!isEmbeddingDim(dim)) throw new Error(`unsupported embedding dimension ${dim}`);
}

/**
 * The indexed expression for one embedding size: `(embedding::vector(384))`, or
 * `(embedding::halfvec(3072))` above 2,000 dimensions. A query only uses the HNSW index when it
 * orders by exactly this expression and also filters with `embeddingDimIs(dim)`, the index's
 * predicate; both inline `dim` as a literal because the planner cannot match a parameter
 * against a partial index.
 *
 * @throws Error when `dim` is not one of EMBEDDING_DIMS (there is no index to use).
 * @example
 * db.select().from(chunks)
 *   .where(and(eq(chunks.collectionId, id), embeddingDimIs(384)))
 *   .orderBy(embeddingDistance(384, queryVector))
 *   .limit(10);
 */
export function embeddingExpr(dim: number): SQL {
  assertDim(dim);
  return sql`(${chunks.embedding}::${sql.raw(castType(dim))})`;
}

/**
 * The partial-index predicate that goes with `embeddingExpr(dim)`.
 *
 * @throws Error when `dim` is not one of EMBEDDING_DIMS.
 * @example
 * and(eq(chunks.collectionId, id), embeddingDimIs(768))
 */
export function embeddingDimIs(dim: number): SQL {
  assertDim(dim);
  return sql`${chunks.embeddingDim} = ${sql.raw(String(dim))}`;
}

/**
 * Cosine distance (`<=>`, 0 = same direction) from each chunk to `query`, written so the HNSW
 * index for `dim` serves `ORDER BY ... LIMIT`. Pair it with `embeddingDimIs(dim)`.
 *
 * The index holds every tenant's chunks, so the tenant and collection filters apply after the
 * index scan; without `SET LOCAL hnsw.iterative_scan = relaxed_order` in the search transaction
 * a selective filter returns fewer than `limit` rows (measured recall@10 0.38 vs 0.94).
 *
 * @throws Error when `dim` is not supported or `query` has another length.
 * @example
 * .orderBy(embeddingDistance(1536, queryVector)).limit(10)
 */
export function embeddingDistance(dim: number, query: readonly number[]): SQL {
  assertDim(dim);
  if (query.length !== dim) throw new Error(`query vector has ${query.length} dimensions, expected ${dim}`);
  return sql`${embeddingExpr(dim)} <=> ${`[${query.join(",")}]`}::${sql.raw(castType(dim))}`;
}

function castType(dim: EmbeddingDim): string {
  return `${dim > HNSW_VECTOR_MAX_DIM ? "halfvec" : "vector"}(${dim})`;
}

export const collectionsRelations = relations(collections, ({ one, many }) => ({
  tenant: one(tenants, { fields: [collections.tenantId], references: [tenants.id] }),
  documents: many(documents),
}));

export const documentsRelations = relations(documents, ({ one, many }) => ({
  collection: one(collections, { fields: [documents.collectionId], references: [collections.id] }),
  chunks: many(chunks),
}));

export const chunksRelations = relations(chunks, ({ one }) => ({
  document: one(documents, { fields: [chunks.documentId], references: [documents.id] }),
  collection: one(collections, { fields: [chunks.collectionId], references: [collections.id] }),
}));

export const ragQueriesRelations = relations(ragQueries, ({ one, many }) => ({
  collection: one(collections, { fields: [ragQueries.collectionId], references: [collections.id] }),
  sources: many(ragSources),
}));

export const ragSourcesRelations = relations(ragSources, ({ one }) => ({
  query: one(ragQueries, { fields: [ragSources.ragQueryId], references: [ragQueries.id] }),
  chunk: one(chunks, { fields: [ragSources.chunkId], references: [chunks.id] }),
}));
