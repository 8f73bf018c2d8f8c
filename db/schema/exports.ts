import { bigint, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt, id, oneOf, tenantKey, tenantPolicies } from "./columns";
import { tenantId } from "./tenants";

export const TENANT_EXPORT_STATUSES = ["pending", "running", "completed", "failed"] as const;
export type TenantExportStatus = (typeof TENANT_EXPORT_STATUSES)[number];

/**
 * One export of all of a tenant's data (`POST /v1/tenants/{id}/export`): requested here, written
 * by the jobs queue as one NDJSON object in the documents bucket, downloaded from there. The row
 * goes with the tenant; so does the object (it lies under the tenant's prefix).
 */
export const tenantExports = pgTable(
  "tenant_exports",
  {
    ...id,
    ...tenantId,
    status: text("status", { enum: TENANT_EXPORT_STATUSES }).notNull().default("pending"),
    /** Key of the NDJSON object, once written. */
    objectKey: text("object_key"),
    rows: bigint("rows", { mode: "number" }),
    bytes: bigint("bytes", { mode: "number" }),
    error: text("error"),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    ...createdAt,
  },
  (t) => [
    tenantKey("tenant_exports", t),
    index("tenant_exports_tenant_id_created_at_idx").on(t.tenantId, t.createdAt),
    oneOf("tenant_exports_status_check", t.status, TENANT_EXPORT_STATUSES),
    ...tenantPolicies(),
  ],
);
