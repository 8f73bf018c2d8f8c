import { and, eq } from "drizzle-orm";
import { webhookDeliveries } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { ApiError } from "../../lib/errors";
import type { WebhookDelivery } from "./schemas";

/**
 * One of the tenant's deliveries. Another tenant's is hidden by RLS and answers 404 like an id
 * that never existed.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadDelivery(
  db: TenantDb,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<WebhookDelivery> {
  const query = db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, db.tenantId), eq(webhookDeliveries.id, id)));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", { detail: `Webhook delivery ${id} not found.` });
  return row;
}
