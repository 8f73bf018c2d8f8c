ALTER TABLE "rag_queries" ALTER COLUMN "collection_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "chunks" ADD COLUMN "role" text DEFAULT 'leaf' NOT NULL;--> statement-breakpoint
ALTER TABLE "chunks" ADD COLUMN "content_tsv" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', content)) STORED;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "storage_key" text;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "status_changed_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "generation" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "stage_times" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "chunk_count" integer;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "embedding_tokens" integer;--> statement-breakpoint
ALTER TABLE "rag_queries" ADD COLUMN "collection_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "rag_queries" ADD COLUMN "kind" text DEFAULT 'search' NOT NULL;--> statement-breakpoint
ALTER TABLE "rag_queries" ADD COLUMN "answer" text;--> statement-breakpoint
ALTER TABLE "rag_queries" ADD COLUMN "model" text;--> statement-breakpoint
ALTER TABLE "rag_queries" ADD COLUMN "input_tokens" integer;--> statement-breakpoint
ALTER TABLE "rag_queries" ADD COLUMN "output_tokens" integer;--> statement-breakpoint
ALTER TABLE "rag_sources" ADD COLUMN "cited" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "chunks_content_tsv_idx" ON "chunks" USING gin ("content_tsv");--> statement-breakpoint
CREATE INDEX "chunks_metadata_idx" ON "chunks" USING gin ("metadata" jsonb_path_ops);--> statement-breakpoint
CREATE UNIQUE INDEX "collections_tenant_id_name_key" ON "collections" USING btree ("tenant_id","name") WHERE "collections"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "documents_in_progress_idx" ON "documents" USING btree ("status_changed_at") WHERE "documents"."status" in ('queued', 'parsing', 'chunking', 'embedding');--> statement-breakpoint
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_role_check" CHECK ("chunks"."role" in ('leaf', 'parent'));--> statement-breakpoint
ALTER TABLE "rag_queries" ADD CONSTRAINT "rag_queries_kind_check" CHECK ("rag_queries"."kind" in ('search', 'answer'));