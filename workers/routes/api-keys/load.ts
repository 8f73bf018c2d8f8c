import { and, eq } from "drizzle-orm";
import { apiKeys } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { ApiKey } from "../../../db/types";
import { ApiError } from "../../lib/errors";

/** @throws ApiError NOT_FOUND when the key is not the tenant's. */
export async function loadApiKey(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ApiKey> {
  const query = db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, db.tenantId), eq(apiKeys.id, id)));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `API key ${id} not found.` });
  return row;
}
