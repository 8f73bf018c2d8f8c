import type { Client } from "@neondatabase/serverless";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import {
  chunks,
  collections,
  type DocumentStatus,
  documents,
  IN_PROGRESS_STATUSES,
} from "../../../db/schema/rag";
import { type TenantDb, tenantStatement } from "../../../db/tenant";
import { recordUsageEvents } from "../../usage/record";
import type { IngestJob } from "./job";

/**
 * The guard every ingestion write carries: this document, at the job's generation, still in
 * progress and not deleted. A write that matches no row means the work was superseded (a retry
 * or re-ingest bumped the generation), finished by a duplicate delivery, or deleted: the job
 * stops without touching anything.
 */
function stillCurrent(job: IngestJob) {
  return and(
    eq(documents.id, job.documentId),
    eq(documents.generation, job.generation),
    inArray(documents.status, IN_PROGRESS_STATUSES),
    isNull(documents.deletedAt),
  );
}

/** `stage_times` with `stage` stamped now; the earlier stages of this generation kept. */
function stamp(stage: DocumentStatus) {
  return sql`${documents.stageTimes} || jsonb_build_object(${stage}::text, now())`;
}

export interface ClaimedDocument {
  id: string;
  collectionId: string;
  storageKey: string | null;
  mimeType: string | null;
  metadata: Record<string, unknown>;
  /** Attempts including this one. */
  attempts: number;
  /** Why the previous attempt failed, if it did. */
  lastReason: string | null;
  collection: Pick<
    typeof collections.$inferSelect,
    "embeddingProvider" | "embeddingModel" | "embeddingDim" | "chunking"
  >;
}

/**
 * Starts an attempt: moves the document to `parsing`, counts the attempt and stamps the stage,
 * and reads the collection's settings, in one statement and one round trip (`tenantStatement`).
 * Null when the job is stale (see `stillCurrent`) or its collection was deleted (the attempt is
 * still counted, as it was begun).
 */
export async function claimDocument(client: Client, job: IngestJob): Promise<ClaimedDocument | null> {
  const [row] = await tenantStatement(
    client,
    job.tenantId,
    (db) => {
      const claimed = db.$with("claimed").as(
        db
          .update(documents)
          .set({
            status: "parsing",
            attempts: sql`${documents.attempts} + 1`,
            statusChangedAt: sql`now()`,
            // A new attempt starts the stage clock again; when the document was queued stays.
            stageTimes: sql`jsonb_strip_nulls(jsonb_build_object('queued', ${documents.stageTimes} -> 'queued', 'parsing', now()))`,
          })
          .where(stillCurrent(job))
          .returning({
            id: documents.id,
            collectionId: documents.collectionId,
            storageKey: documents.storageKey,
            mimeType: documents.mimeType,
            metadata: documents.metadata,
            attempts: documents.attempts,
            statusReason: documents.statusReason,
          }),
      );
      return db
        .with(claimed)
        .select({
          id: claimed.id,
          collectionId: claimed.collectionId,
          storageKey: claimed.storageKey,
          mimeType: claimed.mimeType,
          metadata: claimed.metadata,
          attempts: claimed.attempts,
          statusReason: claimed.statusReason,
          embeddingProvider: collections.embeddingProvider,
          embeddingModel: collections.embeddingModel,
          embeddingDim: collections.embeddingDim,
          chunking: collections.chunking,
        })
        .from(claimed)
        .innerJoin(collections, and(eq(collections.id, claimed.collectionId), isNull(collections.deletedAt)));
    },
    PROGRESS_ONLY,
  );
  if (!row) return null;
  // The driver's rows, by column name (the simple protocol has no drizzle mapping).
  return {
    id: String(row.id),
    collectionId: String(row.collection_id),
    storageKey: row.storage_key === null ? null : String(row.storage_key),
    mimeType: row.mime_type === null ? null : String(row.mime_type),
    metadata: row.metadata as Record<string, unknown>,
    attempts: Number(row.attempts),
    lastReason: row.status_reason === null ? null : String(row.status_reason),
    collection: {
      embeddingProvider: String(row.embedding_provider),
      embeddingModel: String(row.embedding_model),
      embeddingDim: Number(row.embedding_dim) as ClaimedDocument["collection"]["embeddingDim"],
      chunking: row.chunking as ClaimedDocument["collection"]["chunking"],
    },
  };
}

/**
 * Commit without waiting for the WAL flush: a claim or a stage stamp lost to a crash of the
 * database only makes the document show the stage before, and the queue's redelivery redoes the
 * work anyway. The attempt's last transaction, whose commit the queue's ack follows, stays
 * durable.
 */
const PROGRESS_ONLY = { settings: { synchronous_commit: "off" } } as const;

/**
 * Moves a claimed document to its next stage, in a transaction of its own sent as one round
 * trip (`tenantStatement`): a stamp is written once or twice a document, for stages that may
 * take a few milliseconds. False when the job has been superseded meanwhile, in which case the
 * caller stops.
 */
export async function advanceStage(client: Client, job: IngestJob, stage: DocumentStatus): Promise<boolean> {
  const rows = await tenantStatement(
    client,
    job.tenantId,
    (db) =>
      db
        .update(documents)
        .set({ status: stage, statusChangedAt: sql`now()`, stageTimes: stamp(stage) })
        .where(stillCurrent(job))
        .returning({ id: documents.id }),
    PROGRESS_ONLY,
  );
  return rows.length > 0;
}

/**
 * Records why an attempt failed. `final` marks the document failed (the reason is what the
 * tenant sees, and `retry` can revive it); otherwise the status stays where the attempt stopped,
 * so the document shows both the stage and the reason while the queue retries it.
 */
export async function recordFailure(
  db: TenantDb,
  job: IngestJob,
  reason: string,
  opts: { final: boolean },
): Promise<boolean> {
  const rows = await db
    .update(documents)
    .set(
      opts.final
        ? { status: "failed", statusReason: reason, statusChangedAt: sql`now()`, stageTimes: stamp("failed") }
        : { statusReason: reason },
    )
    .where(stillCurrent(job))
    .returning({ id: documents.id });
  return rows.length > 0;
}

/**
 * Opens an attempt's last write: marks the document indexed (keeping its extracted text for
 * citations and re-chunking) and clears the chunks an earlier write left, in one statement,
 * before the caller inserts the new chunks in the same transaction, so the document and its
 * chunks commit together. Null, with nothing changed, when the job is no longer current.
 *
 * The UPDATE takes the document's row lock: a concurrent delivery of the same job waits on it,
 * then finds the document indexed, so it clears and writes nothing. That holds because every
 * chunk write marks the document indexed in its transaction, and a re-ingest starts a new
 * generation: the DELETE can never remove chunks that a job still holding the document writes.
 */
export async function markIndexed(
  db: TenantDb,
  job: IngestJob,
  result: { content: string; chunkCount: number; embeddingTokens: number },
): Promise<boolean> {
  const indexed = db.$with("indexed").as(
    db
      .update(documents)
      .set({
        status: "indexed",
        statusReason: null,
        statusChangedAt: sql`now()`,
        stageTimes: stamp("indexed"),
        content: result.content,
        chunkCount: result.chunkCount,
        embeddingTokens: result.embeddingTokens,
      })
      .where(stillCurrent(job))
      .returning({ id: documents.id }),
  );
  const cleared = db
    .$with("cleared", {})
    .as(sql`delete from ${chunks} where ${chunks.documentId} in (select id from indexed)`);
  const rows = await db.with(indexed, cleared).select().from(indexed);
  return rows.length > 0;
}

/**
 * Meters an indexed document: the generation's embedding tokens and chunks, in the transaction
 * that wrote them. The events are keyed by document and generation: a redelivery of the job
 * writes nothing, a re-ingest (a new generation) is billed again.
 */
export async function meterIndexing(
  db: TenantDb,
  job: IngestJob,
  written: { chunkCount: number; embeddingTokens: number; model: string },
): Promise<void> {
  const work = `document:${job.documentId}:${job.generation}`;
  const about = { resourceType: "document", resourceId: job.documentId } as const;
  await recordUsageEvents(db, [
    {
      eventKey: `${work}:embedding_tokens`,
      meter: "embedding_tokens",
      quantity: written.embeddingTokens,
      unit: "tokens",
      model: written.model,
      ...about,
    },
    { eventKey: `${work}:chunks`, meter: "chunks", quantity: written.chunkCount, unit: "chunks", ...about },
  ]);
}
