import { eq } from "drizzle-orm";
import { type ConnectionConfig, connect } from "../../db/client";
import { documents } from "../../db/schema/rag";
import { withTenant } from "../../db/tenant";
import type { Config, Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import { telemetryFor } from "../../workers/observability/telemetry";
import { embeddingSettings } from "../../workers/rag/embed/provider";
import { type Connections, SharedConnections } from "../../workers/rag/ingest/connections";
import { recordFailure } from "../../workers/rag/ingest/document-state";
import { IngestRetry, ingestDocument } from "../../workers/rag/ingest/ingest-document";
import type { IngestJob } from "../../workers/rag/ingest/job";

/**
 * Connections one batch's `rag_ingest` messages open at most; their transactions take turns on
 * them. One serialised the batch's database work (bench:rag-ingest through the Worker: 0.31 of
 * the baseline, worse than a connection per message); two and four measured alike locally, and
 * a remote database's longer round trips favour more overlap. Still fewer than the batch's ten.
 */
export const CONNECTIONS_PER_BATCH = 4;

/**
 * The connections a batch's `rag_ingest` messages share (see `SharedConnections`): opened on
 * first use, so a batch without such messages opens none. Close them when the batch is done.
 */
export function ragIngestConnections(config: ConnectionConfig): SharedConnections {
  return new SharedConnections(() => connect(config), CONNECTIONS_PER_BATCH);
}

/**
 * One attempt at a `rag_ingest` message, on the batch's `connections`. Resolves when the message
 * is done (indexed, failed for good, or stale); throws `IngestRetry` so the consumer retries
 * with backoff.
 */
export async function runRagIngest(
  env: Env,
  config: Config,
  job: IngestJob,
  logger: Logger,
  connections: Connections,
): Promise<void> {
  const telemetry = telemetryFor(config);
  const started = performance.now();
  try {
    const outcome = await ingestDocument(
      {
        connections,
        bucket: env.DOCUMENTS,
        embedding: embeddingSettings(config, env),
        maxAttempts: config.RAG_MAX_ATTEMPTS,
      },
      job,
    );
    logger.info("document ingestion", { documentId: job.documentId, tenantId: job.tenantId, ...outcome });
    if (outcome.kind === "indexed") {
      telemetry.counter("meridian_ingestion_documents_total", 1, { outcome: "indexed" });
      telemetry.counter("meridian_ingestion_chunks_total", outcome.chunks, {});
      telemetry.counter("meridian_embedding_tokens_total", outcome.embeddingTokens, {
        provider: outcome.provider,
      });
      telemetry.histogram("meridian_ingestion_duration_seconds", (performance.now() - started) / 1000, {});
    } else if (outcome.kind === "failed") {
      telemetry.counter("meridian_ingestion_documents_total", 1, { outcome: "failed" });
    }
  } catch (error) {
    if (error instanceof IngestRetry)
      telemetry.counter("meridian_ingestion_documents_total", 1, { outcome: "retried" });
    throw error;
  }
}

/**
 * A `rag_ingest` message that exhausted the queue's retries: its document is failed with the last
 * attempt's reason, so it never sits in a stage forever; `POST .../retry` revives it.
 */
export async function failDeadRagIngest(config: Config, job: IngestJob, attempts: number): Promise<boolean> {
  const client = await connect(config);
  try {
    const marked = await withTenant(client, job.tenantId, async (db) => {
      const [row] = await db
        .select({ statusReason: documents.statusReason })
        .from(documents)
        .where(eq(documents.id, job.documentId));
      const last = row?.statusReason ?? "no attempt recorded a reason";
      return recordFailure(db, job, `gave up after ${attempts} deliveries; ${last}`, { final: true });
    });
    if (marked)
      telemetryFor(config).counter("meridian_ingestion_documents_total", 1, { outcome: "dead_lettered" });
    return marked;
  } finally {
    await client.end().catch(() => undefined);
  }
}
