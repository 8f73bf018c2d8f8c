import { type TenantDb, withTenant } from "../../../db/tenant";
import { chunkDocument } from "../chunk/chunk-document";
import { type ChunkingSettings, chunkingSettingsSchema } from "../chunk/settings";
import { embedInBatches } from "../embed/batches";
import { type EmbeddingSettings, embeddingProvider } from "../embed/provider";
import { EmbeddingError, type EmbeddingProviderName } from "../embed/types";
import { parseDocument } from "../parse/parse-document";
import { isSupportedMimeType, UnparseableDocumentError } from "../parse/types";
import type { Connections } from "./connections";
import {
  advanceStage,
  type ClaimedDocument,
  claimDocument,
  markIndexed,
  meterIndexing,
  recordFailure,
} from "./document-state";
import type { IngestJob } from "./job";
import { MissingOriginalError, readOriginal } from "./storage";
import { type ChunkWrite, insertChunks } from "./write-chunks";

export interface IngestDeps {
  /** Where each of the attempt's transactions runs: the batch's shared connections, or one of the caller's. */
  connections: Connections;
  bucket: R2Bucket;
  embedding: EmbeddingSettings;
  /** Attempts after which a failing document is failed for good (RAG_MAX_ATTEMPTS). */
  maxAttempts: number;
}

export type IngestOutcome =
  | { kind: "indexed"; chunks: number; embeddingTokens: number; provider: string }
  /** The job was stale: superseded, already done, deleted, or its collection deleted. */
  | { kind: "skipped" }
  /** Failed for good; the document says why. */
  | { kind: "failed"; reason: string };

/**
 * A failure worth another attempt (a vendor outage, a lost connection). The document keeps its
 * stage and shows the reason; the queue retries with backoff, and the dead-letter queue fails the
 * document once the retries run out.
 */
export class IngestRetry extends Error {
  override name = "IngestRetry";
}

/**
 * One attempt at ingesting a document: claim, parse the original, chunk, embed the leaves in
 * batches, then replace the document's chunks and mark it indexed in one transaction. Each stage
 * is recorded as it starts, so `GET /v1/rag/documents/{id}` shows where the work is.
 *
 * Safe to run any number of times for the same job, concurrently too: every write is guarded by
 * the job's generation, and the final write replaces the chunks under the document's row lock.
 *
 * @throws IngestRetry for a failure a later attempt may not meet (after recording it).
 */
export async function ingestDocument(deps: IngestDeps, job: IngestJob): Promise<IngestOutcome> {
  const inTenant = <T>(fn: Parameters<typeof withTenant<T>>[2]) =>
    deps.connections.use((client) => withTenant(client, job.tenantId, fn));
  const document = await deps.connections.use((client) => claimDocument(client, job));
  if (!document) return { kind: "skipped" };

  const fail = async (reason: string): Promise<IngestOutcome> => {
    await inTenant((db) => recordFailure(db, job, reason, { final: true }));
    return { kind: "failed", reason };
  };
  if (document.attempts > deps.maxAttempts) {
    return fail(
      `gave up after ${deps.maxAttempts} attempts; ${document.lastReason ?? "no attempt finished"}`,
    );
  }

  try {
    const text = await extract(deps, document);
    const stamp = (stage: "chunking" | "embedding") =>
      deps.connections.use((client) => advanceStage(client, job, stage));
    if (!(await stamp("chunking"))) return { kind: "skipped" };
    const planned = chunkDocument(text, chunkingOf(document));
    const leaves = planned.filter((chunk) => chunk.role === "leaf");
    if (leaves.length === 0) return fail("the document has no text to index");

    if (!(await stamp("embedding"))) return { kind: "skipped" };
    const { collection } = document;
    const provider = embeddingProvider(
      {
        provider: collection.embeddingProvider as EmbeddingProviderName,
        model: collection.embeddingModel,
        dim: collection.embeddingDim,
      },
      deps.embedding,
    );
    const embedded = await embedInBatches(
      provider,
      leaves.map((chunk) => chunk.content),
      "document",
    );

    const written = await inTenant((db) =>
      completeDocument(
        db,
        job,
        {
          documentId: document.id,
          collectionId: document.collectionId,
          metadata: document.metadata,
          planned,
          leafVectors: embedded.vectors,
          embeddingModel: collection.embeddingModel,
          embeddingDim: collection.embeddingDim,
        },
        { content: text.text, embeddingTokens: embedded.tokens },
      ),
    );
    if (written === null) return { kind: "skipped" };
    return {
      kind: "indexed",
      chunks: written,
      embeddingTokens: embedded.tokens,
      provider: collection.embeddingProvider,
    };
  } catch (error) {
    if (isPermanent(error)) return fail(messageOf(error));
    const reason = `attempt ${document.attempts} failed: ${messageOf(error)}`;
    await inTenant((db) => recordFailure(db, job, reason, { final: false })).catch(() => undefined);
    throw new IngestRetry(reason);
  }
}

/**
 * An attempt's last transaction: mark the document indexed and clear its earlier chunks, write
 * the new ones, meter them. Null, with nothing written, when the job was superseded meanwhile.
 *
 * @returns the number of chunks written.
 */
export async function completeDocument(
  db: TenantDb,
  job: IngestJob,
  write: ChunkWrite,
  extracted: { content: string; embeddingTokens: number },
): Promise<number | null> {
  const chunkCount = write.planned.length;
  if (!(await markIndexed(db, job, { ...extracted, chunkCount }))) return null;
  await insertChunks(db, write);
  // The model the vectors came from: a collection's model is fixed once it has documents.
  await meterIndexing(db, job, {
    chunkCount,
    embeddingTokens: extracted.embeddingTokens,
    model: write.embeddingModel,
  });
  return chunkCount;
}

async function extract(deps: IngestDeps, document: ClaimedDocument) {
  if (!document.storageKey) throw new MissingOriginalError("the document has no stored original");
  const mimeType = document.mimeType ?? "text/plain";
  if (!isSupportedMimeType(mimeType)) throw new UnparseableDocumentError(`unsupported type ${mimeType}`);
  return parseDocument(await readOriginal(deps.bucket, document.storageKey), mimeType);
}

/** The collection's settings as stored; a row from before a settings change still parses. */
function chunkingOf(document: ClaimedDocument): ChunkingSettings {
  return chunkingSettingsSchema.parse(document.collection.chunking);
}

/** Errors a retry cannot fix: the document fails at once with this reason. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof UnparseableDocumentError ||
    error instanceof MissingOriginalError ||
    (error instanceof EmbeddingError && !error.retryable)
  );
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 1000);
}
