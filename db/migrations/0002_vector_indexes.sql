-- One partial HNSW index per supported embedding size (EMBEDDING_DIMS in db/schema/rag.ts).
-- chunks.embedding is an unconstrained `vector` so collections can use different models, but an
-- HNSW index needs a fixed dimension: each index casts the column to one size and covers only the
-- rows of that size. A query uses an index only if it orders by the same expression and repeats
-- the predicate with a literal (embeddingDistance() and embeddingDimIs() in db/schema/rag.ts).
-- pgvector's HNSW on `vector` stops at 2,000 dimensions, so 3072 is indexed as halfvec (16-bit
-- floats; the stored column keeps full precision).
-- Built with the pgvector defaults (m = 16, ef_construction = 64). Not CONCURRENTLY: the table is
-- empty here and drizzle runs migrations in a transaction. Adding a size later means a new
-- migration with one more index (CONCURRENTLY, outside the migrator, if chunks is large) and the
-- new size in EMBEDDING_DIMS, whose generated CHECK on collections.embedding_dim then allows it.
CREATE INDEX "chunks_embedding_384_hnsw_idx" ON "chunks" USING hnsw (("embedding"::vector(384)) vector_cosine_ops) WHERE "embedding_dim" = 384;--> statement-breakpoint
CREATE INDEX "chunks_embedding_768_hnsw_idx" ON "chunks" USING hnsw (("embedding"::vector(768)) vector_cosine_ops) WHERE "embedding_dim" = 768;--> statement-breakpoint
CREATE INDEX "chunks_embedding_1024_hnsw_idx" ON "chunks" USING hnsw (("embedding"::vector(1024)) vector_cosine_ops) WHERE "embedding_dim" = 1024;--> statement-breakpoint
CREATE INDEX "chunks_embedding_1536_hnsw_idx" ON "chunks" USING hnsw (("embedding"::vector(1536)) vector_cosine_ops) WHERE "embedding_dim" = 1536;--> statement-breakpoint
CREATE INDEX "chunks_embedding_3072_hnsw_idx" ON "chunks" USING hnsw (("embedding"::halfvec(3072)) halfvec_cosine_ops) WHERE "embedding_dim" = 3072;
