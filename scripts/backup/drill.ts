import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { parseBackupKey } from "./backup-keys.ts";
import { fileDigest } from "./checksum.ts";
import { type BackupManifest, backupManifest } from "./manifest.ts";
import { connectionForChild, runPgProgram } from "./pg-tools.ts";
import { listBackups } from "./retention.ts";
import { type CountComparison, compareCounts, countRows } from "./row-counts.ts";
import { getObjectText, getObjectToFile, type S3Location } from "./s3.ts";

export interface RestoreDrillOptions {
  location: S3Location;
  prefix: string;
  /**
   * A role that may CREATE DATABASE on the server the scratch copy goes to (and DROP it after);
   * its URL's database is only where it connects to run those.
   */
  adminUrl: string;
  /** The dump's key; default the newest complete backup under the prefix. */
  key?: string;
  /** Leave the scratch database in place (its name is in the result). */
  keep?: boolean;
  /** Passed to pg_restore: restore objects as the restoring role instead of their recorded owners. */
  noOwner?: boolean;
}

export interface RestoreDrillResult {
  manifest: BackupManifest;
  scratchDatabase: string;
  scratchUrl: string;
  kept: boolean;
  comparison: CountComparison[];
  /** True when every table's restored count equals the count recorded in the dump's snapshot. */
  ok: boolean;
}

/**
 * Restores a backup into a new scratch database and compares every table's row count with the
 * counts the backup recorded in the dump's own snapshot.
 *
 * @throws Error when there is no backup, the dump's checksum does not match its manifest, or
 *   pg_restore fails; S3Error when a download fails.
 * @example
 * const result = await runRestoreDrill({ location, prefix: "meridian", adminUrl });
 * if (!result.ok) process.exitCode = 1;
 */
export async function runRestoreDrill(opts: RestoreDrillOptions): Promise<RestoreDrillResult> {
  const keys = await chooseBackup(opts);
  const manifest = backupManifest.parse(JSON.parse(await getObjectText(opts.location, keys.manifest)));
  if (manifest.dump !== keys.dump) {
    throw new Error(`manifest ${keys.manifest} describes ${manifest.dump}, not ${keys.dump}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "meridian-restore-"));
  const scratchDatabase = `meridian_restore_drill_${keys.takenAt.toISOString().replace(/\D/g, "").slice(0, 14)}_${randomBytes(3).toString("hex")}`;
  const scratchUrl = withDatabase(opts.adminUrl, scratchDatabase);
  let created = false;
  let comparison: CountComparison[];
  try {
    const dumpPath = join(dir, "meridian.dump");
    await getObjectToFile(opts.location, keys.dump, dumpPath);
    const digest = await fileDigest(dumpPath);
    if (digest.sha256 !== manifest.sha256 || digest.bytes !== manifest.bytes) {
      throw new Error(
        `${keys.dump} does not match its manifest (sha256 ${digest.sha256}, ${digest.bytes} bytes; expected ${manifest.sha256}, ${manifest.bytes} bytes)`,
      );
    }
    await adminQuery(opts.adminUrl, `create database ${pg.escapeIdentifier(scratchDatabase)}`);
    created = true;
    const child = connectionForChild(scratchUrl);
    // Table data is loaded before the dump's ENABLE ROW LEVEL SECURITY (a post-data step), so
    // row security never filters the load.
    await runPgProgram(
      "pg_restore",
      ["--exit-on-error", ...(opts.noOwner ? ["--no-owner"] : []), `--dbname=${child.url}`, dumpPath],
      child.env,
    );
    comparison = compareCounts(manifest.rowCounts, await countInTransaction(scratchUrl));
  } catch (error) {
    if (created && !opts.keep) await dropDatabase(opts.adminUrl, scratchDatabase).catch(() => undefined);
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (!opts.keep) await dropDatabase(opts.adminUrl, scratchDatabase);
  return {
    manifest,
    scratchDatabase,
    scratchUrl,
    kept: Boolean(opts.keep),
    comparison,
    ok: comparison.every((row) => row.ok),
  };
}

/**
 * Row counts of a database, read in one REPEATABLE READ transaction (so they describe one moment).
 *
 * @throws HiddenRowsError when row-level security would hide rows from the URL's role.
 */
export async function countInTransaction(databaseUrl: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query("begin isolation level repeatable read read only");
    const counts = await countRows(client);
    await client.query("commit");
    return counts;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops a scratch database (after ending any session still in it). */
export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  await adminQuery(adminUrl, `drop database if exists ${pg.escapeIdentifier(database)} with (force)`);
}

async function chooseBackup(opts: RestoreDrillOptions) {
  if (opts.key) {
    const keys = parseBackupKey(opts.prefix, opts.key);
    if (!keys) throw new Error(`${opts.key} is not a backup key under the prefix "${opts.prefix}"`);
    return keys;
  }
  const newest = (await listBackups(opts.location, opts.prefix)).find((b) => b.hasDump && b.hasManifest);
  if (!newest) throw new Error(`no complete backup (dump and manifest) under the prefix "${opts.prefix}"`);
  return newest;
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same server and credentials, another database. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.href;
}
