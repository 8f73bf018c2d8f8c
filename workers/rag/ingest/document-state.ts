import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { collections, type DocumentStatus, documents, IN_PROGRESS_STATUSES } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
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
 * and reads the collection's settings, in one statement. Null when the job is stale (see
 * `stillCurrent`) or its collection was deleted (the attempt is still counted, as it was begun).
 */
export async function claimDocument(db: TenantDb, job: IngestJob): Promise<ClaimedDocument | null> {
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
        lastReason: documents.statusReason,
      }),
  );
  const [row] = await db
    .with(claimed)
    .select({
      id: claimed.id,
      collectionId: claimed.collectionId,
      storageKey: claimed.storageKey,
      mimeType: claimed.mimeType,
      metadata: claimed.metadata,
      attempts: claimed.attempts,
      lastReason: claimed.lastReason,
      embeddingProvider: collections.embeddingProvider,
      embeddingModel: collections.embeddingModel,
      embeddingDim: collections.embeddingDim,
      chunking: collections.chunking,
    })
    .from(claimed)
    .innerJoin(collections, and(eq(collections.id, claimed.collectionId), isNull(collections.deletedAt)));
  if (!row) return null;
  const { embeddingProvider, embeddingModel, embeddingDim, chunking, ...document } = row;
  return { ...document, collection: { embeddingProvider, embeddingModel, embeddingDim, chunking } };
}

/**
 * Moves a claimed document to its next stage. False when the job has been superseded meanwhile,
 * in which case the caller stops.
 */
export async function advanceStage(db: TenantDb, job: IngestJob, stage: DocumentStatus): Promise<boolean> {
  const rows = await db
    .update(documents)
    .set({ status: stage, statusChangedAt: sql`now()`, stageTimes: stamp(stage) })
    .where(stillCurrent(job))
    .returning({ id: documents.id });
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
 * Locks the document for the final write, if the job is still current. Concurrent deliveries of
 * the same job queue up here; the second finds the document indexed and writes nothing.
 */
export async function lockForCompletion(db: TenantDb, job: IngestJob): Promise<boolean> {
  const rows = await db.select({ id: documents.id }).from(documents).where(stillCurrent(job)).for("update");
  return rows.length > 0;
}

/**
 * Marks a document indexed, keeping its extracted text for citations and re-chunking, and
 * meters the generation's embedding tokens and chunks in the same transaction. The events are
 * keyed by document and generation: a redelivery of the job writes nothing, a re-ingest (a new
 * generation) is billed again.
 */
export async function markIndexed(
  db: TenantDb,
  job: IngestJob,
  result: { content: string; chunkCount: number; embeddingTokens: number },
): Promise<void> {
  const [indexed] = await db
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
    .returning({
      // The model that embedded the chunks, for the usage event, read in the same round trip.
      model: sql<
        string | null
      >`(select ${collections.embeddingModel} from ${collections} where ${collections.id} = ${documents.collectionId})`,
    });
  if (!indexed) return;
  const work = `document:${job.documentId}:${job.generation}`;
  const about = { resourceType: "document", resourceId: job.documentId } as const;
  await recordUsageEvents(db, [
    {
      eventKey: `${work}:embedding_tokens`,
      meter: "embedding_tokens",
      quantity: result.embeddingTokens,
      unit: "tokens",
      model: indexed.model,
      ...about,
    },
    { eventKey: `${work}:chunks`, meter: "chunks", quantity: result.chunkCount, unit: "chunks", ...about },
  ]);
}
