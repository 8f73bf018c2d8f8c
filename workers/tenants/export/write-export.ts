import type { Client } from "@neondatabase/serverless";
import { and, eq, sql } from "drizzle-orm";
import { connect } from "../../../db/client";
import { tenantExports } from "../../../db/schema/exports";
import { type TenantDb, withTenant } from "../../../db/tenant";
import type { Config, Env } from "../../env";
import { toBase64 } from "../../lib/bytes";
import { tenantPrefix } from "../../rag/ingest/storage";
import { tenantObjectsPrefix } from "../objects";
import { NdjsonUpload } from "./ndjson-upload";

export const EXPORT_FORMAT = "meridian.tenant-export.v1";

/** Tables an export leaves out: the idempotency replay cache and the export bookkeeping itself. */
const SKIPPED_TABLES = new Set(["idempotency_keys", "tenant_exports"]);

/**
 * Columns an export leaves out: what would let its reader act as the tenant (password, key and
 * token hashes, secrets' ciphertext) and what is derived and bulky (chunk embeddings and their
 * search vectors, recomputed from the chunk text on import).
 */
const LEFT_OUT: Record<string, readonly string[]> = {
  users: ["password_hash"],
  api_keys: ["key_hash"],
  sessions: ["refresh_hash", "previous_refresh_hash"],
  invitations: ["token_hash"],
  password_resets: ["token_hash"],
  tenant_secrets: ["ciphertext", "iv", "wrapped_dek"],
  chunks: ["embedding", "content_tsv"],
};

/** Rows fetched from a cursor at once. */
const FETCH = 500;

/** The object an export is written to. */
export function exportObjectKey(tenantId: string, exportId: string): string {
  return `${tenantObjectsPrefix(tenantId)}exports/${exportId}.ndjson`;
}

/**
 * Writes one requested export: a header line, then every row of every tenant table as
 * `{"table", "row"}` lines, then every document original as `{"object", "contentType",
 * "base64"}`, then a summary line with the counts. The tables are found in the catalogue, so a
 * table added later is exported without a change here. A redelivered job rewrites the object
 * unless the export is complete already.
 */
export async function writeTenantExport(
  env: Env,
  config: Config,
  tenantId: string,
  exportId: string,
): Promise<void> {
  const client = await connect(config);
  const key = exportObjectKey(tenantId, exportId);
  try {
    if (!(await markRunning(client, tenantId, exportId))) return;
    const upload = await NdjsonUpload.begin(env.DOCUMENTS, key);
    try {
      await upload.write({ format: EXPORT_FORMAT, tenantId, exportId, exportedAt: new Date().toISOString() });
      const rows = await withTenant(client, tenantId, (db) => writeRows(db, upload), { readOnly: true });
      const objects = await writeOriginals(env.DOCUMENTS, tenantId, upload);
      await upload.write({ summary: { rows, objects } });
      await upload.complete();
    } catch (error) {
      await upload.abort().catch(() => undefined);
      throw error;
    }
    await withTenant(client, tenantId, (db) =>
      db
        .update(tenantExports)
        .set({
          status: "completed",
          objectKey: key,
          rows: upload.lines,
          bytes: upload.bytes,
          completedAt: new Date(),
        })
        .where(eq(tenantExports.id, exportId)),
    );
  } catch (error) {
    await withTenant(client, tenantId, (db) =>
      db
        .update(tenantExports)
        .set({ status: "failed", error: error instanceof Error ? error.message : String(error) })
        .where(and(eq(tenantExports.id, exportId), eq(tenantExports.status, "running"))),
    ).catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Claims the export for this attempt; false when it is complete already or does not exist. */
async function markRunning(client: Client, tenantId: string, exportId: string): Promise<boolean> {
  const claimed = await withTenant(client, tenantId, (db) =>
    db
      .update(tenantExports)
      .set({ status: "running", error: null })
      .where(and(eq(tenantExports.id, exportId), sql`${tenantExports.status} <> 'completed'`))
      .returning({ id: tenantExports.id }),
  );
  return claimed.length > 0;
}

/** Every row of the tenant, table by table; the count per table. */
async function writeRows(db: TenantDb, upload: NdjsonUpload): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await tenantTables(db)) {
    const leftOut = (LEFT_OUT[table] ?? []).map((column) => ` - '${column}'`).join("");
    await db.execute(
      sql.raw(
        `declare export_rows no scroll cursor for select to_jsonb(t)${leftOut} as row from "${table}" t`,
      ),
    );
    counts[table] = 0;
    for (;;) {
      const page = await db.execute<{ row: Record<string, unknown> }>(
        sql.raw(`fetch ${FETCH} from export_rows`),
      );
      for (const { row } of page.rows) await upload.write({ table, row });
      counts[table] += page.rows.length;
      if (page.rows.length < FETCH) break;
    }
    await db.execute(sql.raw("close export_rows"));
  }
  return counts;
}

/** `tenants` first, then every other table with a `tenant_id`, by name. */
async function tenantTables(db: TenantDb): Promise<string[]> {
  const found = await db.execute<{ table_name: string }>(sql`
    select table_name from information_schema.columns
    where table_schema = 'public' and column_name = 'tenant_id'
    order by table_name`);
  const names = found.rows.map((row) => row.table_name).filter((name) => !SKIPPED_TABLES.has(name));
  for (const name of names) {
    // Names are inlined into statements: only plain identifiers, which the catalogue gives.
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`export: unexpected table name ${name}`);
  }
  return ["tenants", ...names];
}

/** Every document original, base64 in its line; how many. */
async function writeOriginals(bucket: R2Bucket, tenantId: string, upload: NdjsonUpload): Promise<number> {
  let written = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: tenantPrefix(tenantId), cursor, limit: 100 });
    for (const listed of page.objects) {
      const object = await bucket.get(listed.key);
      if (!object) continue;
      await upload.write({
        object: listed.key.slice(tenantObjectsPrefix(tenantId).length),
        contentType: object.httpMetadata?.contentType ?? null,
        base64: toBase64(new Uint8Array(await object.arrayBuffer())),
      });
      written += 1;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return written;
}
