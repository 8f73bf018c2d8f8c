import { and, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { documents } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import type { Context } from "../../app";
import { enqueueIngestion } from "./accept";
import type { DocumentRow } from "./schemas";

/**
 * Starts a new generation of ingestion for the documents `where` selects: status `queued`,
 * attempts from 0, the stage clock reset, and a message per document after the commit. The new
 * generation makes any message of the old one, still in the queue, a no-op.
 */
export async function requeueDocuments(c: Context, db: TenantDb, where: SQL): Promise<DocumentRow[]> {
  const rows = await db
    .update(documents)
    .set({
      status: "queued",
      statusReason: null,
      attempts: 0,
      generation: sql`${documents.generation} + 1`,
      statusChangedAt: sql`now()`,
      stageTimes: sql`jsonb_build_object('queued', now())`,
    })
    .where(and(eq(documents.tenantId, db.tenantId), isNull(documents.deletedAt), where))
    .returning();
  for (const row of rows) enqueueIngestion(c, row);
  return rows;
}

/** The documents a bulk retry may touch: failed ones, by id and/or collection. */
export function failedDocuments(filter: { documentIds?: string[]; collectionId?: string }): SQL {
  const conditions: SQL[] = [eq(documents.status, "failed")];
  if (filter.documentIds) conditions.push(inArray(documents.id, filter.documentIds));
  if (filter.collectionId) conditions.push(eq(documents.collectionId, filter.collectionId));
  return and(...conditions) as SQL;
}
