import { and, eq, isNull } from "drizzle-orm";
import { documents } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { ApiError } from "../../lib/errors";
import type { DocumentRow } from "./schemas";

/**
 * A live document of the caller's tenant; another tenant's id is simply absent (404).
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadDocument(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<DocumentRow> {
  const query = db
    .select()
    .from(documents)
    .where(and(eq(documents.tenantId, db.tenantId), eq(documents.id, id), isNull(documents.deletedAt)));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Document ${id} not found.` });
  return row;
}
