import { and, eq, isNull, sql } from "drizzle-orm";
import { documents } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { runActor } from "../../agents/run/spec";
import type { Context } from "../../app";
import { toHex } from "../../lib/bytes";
import { newId } from "../../lib/ids";
import { afterCommit } from "../../middleware/tenant-db";
import { enforceCountQuota } from "../../quotas/counts";
import { originalKey } from "../../rag/ingest/storage";
import { recordUsageEvents } from "../../usage/record";
import { storedDocumentEvents } from "../../usage/stored-document";
import type { DocumentRow } from "./schemas";
import type { Upload } from "./upload";

export interface Accepted {
  document: DocumentRow;
  /** The collection already holds a live document with the same bytes: that one is returned, nothing is queued. */
  duplicate: boolean;
}

/**
 * Takes one upload into a collection: the document row (status `queued`), its original in object
 * storage, its usage (a document and its bytes stored), and, once the request's transaction
 * commits, its ingestion message. The same bytes uploaded again to the same collection return the
 * existing document (the content hash is unique among a collection's live documents), so a client
 * retrying an upload never makes a second copy, nor is billed for one.
 */
export async function acceptUpload(
  c: Context,
  db: TenantDb,
  collectionId: string,
  upload: Upload,
  createdBy: string | null,
): Promise<Accepted> {
  const contentHash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", upload.bytes)));
  const id = newId();
  const storageKey = originalKey(db.tenantId, id);
  const [inserted] = await db
    .insert(documents)
    .values({
      id,
      tenantId: db.tenantId,
      collectionId,
      title: upload.title,
      source: upload.source,
      mimeType: upload.mimeType,
      contentHash,
      sizeBytes: upload.bytes.byteLength,
      storageKey,
      metadata: upload.metadata,
      stageTimes: { queued: new Date().toISOString() },
      createdBy,
    })
    .onConflictDoNothing({
      target: [documents.tenantId, documents.collectionId, documents.contentHash],
      where: sql`${documents.deletedAt} is null`,
    })
    .returning();
  if (!inserted) {
    const [existing] = await db
      .select()
      .from(documents)
      .where(
        and(
          eq(documents.collectionId, collectionId),
          eq(documents.contentHash, contentHash),
          isNull(documents.deletedAt),
        ),
      );
    if (!existing) throw new Error("document upload: conflicting row not found");
    return { document: existing, duplicate: true };
  }
  await enforceCountQuota(db, "documents");
  await recordUsageEvents(
    db,
    storedDocumentEvents({
      documentId: id,
      sizeBytes: upload.bytes.byteLength,
      actor: runActor(c.get("principal")),
    }),
  );
  // Before the commit: if storing the original fails, the row rolls back with the request.
  await c.env.DOCUMENTS.put(storageKey, upload.bytes, { httpMetadata: { contentType: upload.mimeType } });
  enqueueIngestion(c, inserted);
  return { document: inserted, duplicate: false };
}

/**
 * Sends the document's ingestion message once the transaction commits. If the send fails, the
 * document stays `queued` and the stale-ingestion sweep sends it later.
 */
export function enqueueIngestion(
  c: Context,
  document: Pick<DocumentRow, "tenantId" | "id" | "generation">,
): void {
  afterCommit(c, () =>
    c.env.JOBS.send({
      type: "rag_ingest",
      tenantId: document.tenantId,
      documentId: document.id,
      generation: document.generation,
    }),
  );
}
