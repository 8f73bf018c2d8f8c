import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { mcpFiles } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { McpFile } from "../../../db/types";
import type { Principal } from "../../../workers/auth/principal";
import { ToolError } from "../../server/types";
import { MAX_ENTRIES_PER_TENANT, MAX_TOTAL_BYTES_PER_TENANT } from "./limits";
import { ancestorPaths, descendantsPattern, ROOT } from "./paths";

/** An entry without its content (which may be a megabyte). */
export type Entry = Pick<McpFile, "path" | "kind" | "sizeBytes" | "createdAt" | "updatedAt">;

export const entryColumns = {
  path: mcpFiles.path,
  kind: mcpFiles.kind,
  sizeBytes: mcpFiles.sizeBytes,
  createdAt: mcpFiles.createdAt,
  updatedAt: mcpFiles.updatedAt,
};

/*
 * Every query names the tenant although RLS already confines it: the explicit filter lets the
 * planner use (tenant_id, path), and a missing policy would not silently widen a query.
 */
export function ofTenant(db: TenantDb): SQL {
  return eq(mcpFiles.tenantId, db.tenantId);
}

/** Rows strictly below directory `dir`; LIKE's wildcards in names are escaped (`/a_b`, `/100%`). */
export function below(dir: string): SQL {
  return sql`${mcpFiles.path} like ${descendantsPattern(dir)} escape '\\'`;
}

/** Rows more than one level below directory `dir` (so `below(dir) and not deeper(dir)` = children). */
export function deeperThanChildren(dir: string): SQL {
  return sql`${mcpFiles.path} like ${`${descendantsPattern(dir)}/%`} escape '\\'`;
}

/** Byte order, whatever the database's locale: listings read the same everywhere. */
export const byPath = sql`${mcpFiles.path} collate "C"`;

/** The entry at a normalised path, without content; `undefined` when absent (and for the root). */
export async function findEntry(db: TenantDb, path: string): Promise<Entry | undefined> {
  const [row] = await db
    .select(entryColumns)
    .from(mcpFiles)
    .where(and(ofTenant(db), eq(mcpFiles.path, path)));
  return row;
}

/**
 * Makes sure `path` is an existing directory (the root always is).
 *
 * @throws ToolError `not_found`, `not_a_directory`
 */
export async function requireDirectory(db: TenantDb, path: string): Promise<void> {
  if (path === ROOT) return;
  const entry = await findEntry(db, path);
  if (!entry) throw new ToolError(`Directory ${path} does not exist.`, "not_found");
  if (entry.kind !== "directory")
    throw new ToolError(`${path} is a file, not a directory.`, "not_a_directory");
}

/**
 * The ancestors of `path` that do not exist yet, outermost first.
 *
 * @throws ToolError `not_a_directory` when an ancestor is a file.
 */
export async function missingAncestors(db: TenantDb, path: string): Promise<string[]> {
  const ancestors = ancestorPaths(path);
  if (ancestors.length === 0) return [];
  const rows = await db
    .select({ path: mcpFiles.path, kind: mcpFiles.kind })
    .from(mcpFiles)
    .where(and(ofTenant(db), inArray(mcpFiles.path, ancestors)));
  const file = rows.find((r) => r.kind !== "directory");
  if (file) throw new ToolError(`${file.path} is a file, not a directory.`, "not_a_directory");
  const existing = new Set(rows.map((r) => r.path));
  return ancestors.filter((p) => !existing.has(p));
}

/**
 * Serialises this tenant's writes until the transaction ends, so two concurrent calls cannot
 * both pass a quota check or create the same path. Other tenants are not blocked.
 */
export async function lockTree(db: TenantDb): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`mcp_files:${db.tenantId}`}, 0))`);
}

/** What the tenant holds now: entries (files and directories) and content bytes. */
export async function usage(db: TenantDb): Promise<{ entries: number; bytes: number }> {
  const [row] = await db
    .select({
      entries: sql<number>`count(*)::int`,
      bytes: sql<number>`coalesce(sum(${mcpFiles.sizeBytes}), 0)::float8`,
    })
    .from(mcpFiles)
    .where(ofTenant(db));
  return { entries: Number(row?.entries ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/**
 * Refuses a write that would take the tenant over its entry count or byte total. Call it
 * under `lockTree`. A write that adds nothing (an overwrite with shorter content) always passes,
 * so a tenant over quota can still shrink.
 *
 * @throws ToolError `quota_exceeded`
 */
export async function assertQuota(db: TenantDb, add: { entries: number; bytes: number }): Promise<void> {
  if (add.entries <= 0 && add.bytes <= 0) return;
  const now = await usage(db);
  if (add.entries > 0 && now.entries + add.entries > MAX_ENTRIES_PER_TENANT) {
    throw new ToolError(
      `The tenant's filesystem holds ${now.entries} of at most ${MAX_ENTRIES_PER_TENANT} entries; delete some first.`,
      "quota_exceeded",
    );
  }
  if (add.bytes > 0 && now.bytes + add.bytes > MAX_TOTAL_BYTES_PER_TENANT) {
    throw new ToolError(
      `The tenant's files would take ${now.bytes + add.bytes} bytes, over the ${MAX_TOTAL_BYTES_PER_TENANT}-byte quota.`,
      "quota_exceeded",
    );
  }
}

/** Inserts directories (outermost first, so each parent exists before its child). */
export async function insertDirectories(db: TenantDb, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  await db
    .insert(mcpFiles)
    .values(paths.map((path) => ({ tenantId: db.tenantId, path, kind: "directory" as const, sizeBytes: 0 })));
}

/**
 * Viewers read files but do not change them, as everywhere else in the API.
 *
 * @throws ToolError `read_only`
 */
export function assertMayWrite(principal: Principal): void {
  if (principal.kind !== "platform_admin" && principal.role === "viewer") {
    throw new ToolError("This credential has the viewer role: files are read-only.", "read_only");
  }
}

/** A timestamp as the tools return it. */
export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}
