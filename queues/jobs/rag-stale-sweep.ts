import { and, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { connect } from "../../db/client";
import { listStaleDocuments, type StaleDocument } from "../../db/privileged";
import { documents, IN_PROGRESS_STATUSES } from "../../db/schema/rag";
import { withTenant } from "../../db/tenant";
import type { Config, Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import { recordFailure } from "../../workers/rag/ingest/document-state";
import type { JobMessage } from "./message";

/** Queue messages per `sendBatch` call (the Queues limit is 100). */
const BATCH = 100;

export interface SweepSummary {
  requeued: number;
  failed: number;
}

/**
 * Nothing stays "queued" forever: documents whose ingestion has not moved for
 * RAG_STALE_AFTER_SECONDS (a queue send that failed after the upload committed, a consumer that
 * died mid-stage, a message lost to an outage) are sent again, and those that have used up
 * RAG_MAX_ATTEMPTS are failed with a reason a tenant can act on (`retry`). Re-sending is safe:
 * ingestion of one generation is idempotent.
 */
export async function runRagStaleSweep(env: Env, config: Config, logger: Logger): Promise<SweepSummary> {
  const client = await connect(config);
  try {
    const stale = await listStaleDocuments(client, config.RAG_STALE_AFTER_SECONDS);
    const summary: SweepSummary = { requeued: 0, failed: 0 };
    const resend: StaleDocument[] = [];
    for (const document of stale) {
      const job = {
        tenantId: document.tenantId,
        documentId: document.documentId,
        generation: document.generation,
      };
      const touched = await withTenant(client, document.tenantId, async (db) => {
        if (document.attempts >= config.RAG_MAX_ATTEMPTS) {
          const reason = `stalled in ${document.status} after ${document.attempts} attempts`;
          return (await recordFailure(db, job, reason, { final: true })) ? "failed" : null;
        }
        // Restart the stale clock, so the next sweep waits a full window for this send to act.
        const rows = await db
          .update(documents)
          .set({ statusChangedAt: sql`now()` })
          .where(
            and(
              eq(documents.id, document.documentId),
              eq(documents.generation, document.generation),
              inArray(documents.status, IN_PROGRESS_STATUSES),
              isNull(documents.deletedAt),
              lt(
                documents.statusChangedAt,
                sql`now() - make_interval(secs => ${config.RAG_STALE_AFTER_SECONDS})`,
              ),
            ),
          )
          .returning({ id: documents.id });
        return rows.length > 0 ? "requeue" : null;
      });
      if (touched === "failed") summary.failed++;
      if (touched === "requeue") resend.push(document);
    }
    for (let i = 0; i < resend.length; i += BATCH) {
      await env.JOBS.sendBatch(
        resend.slice(i, i + BATCH).map((document): { body: JobMessage } => ({
          body: {
            type: "rag_ingest",
            tenantId: document.tenantId,
            documentId: document.documentId,
            generation: document.generation,
          },
        })),
      );
    }
    summary.requeued = resend.length;
    if (stale.length > 0) logger.warn("stale document ingestion swept", { ...summary });
    return summary;
  } finally {
    await client.end().catch(() => undefined);
  }
}
