import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { backupKeys } from "./backup-keys.ts";
import { fileDigest } from "./checksum.ts";
import type { BackupManifest } from "./manifest.ts";
import { connectionForChild, pgProgramVersion, runPgProgram } from "./pg-tools.ts";
import { applyRetention, type RetentionPolicy, type StoredBackup } from "./retention.ts";
import { countRows, rowSecurityMode } from "./row-counts.ts";
import { putObjectFile, putObjectText, type S3Location } from "./s3.ts";

export interface CreateBackupOptions {
  /** The database to dump, as its owner (or a superuser). */
  databaseUrl: string;
  location: S3Location;
  prefix: string;
  retention: RetentionPolicy;
  /** The moment the keys are named after. @default now */
  now?: Date;
  /**
   * Runs after the snapshot is exported and counted and before pg_dump starts: a test writes
   * here to show the dump and the counts both stay in the snapshot.
   */
  afterSnapshot?: () => Promise<void>;
}

export interface BackupResult {
  manifest: BackupManifest;
  /** Backups retention removed after this one was stored. */
  deleted: StoredBackup[];
}

/**
 * Dumps the database (`pg_dump -Fc`) and stores the dump and its manifest in the bucket, then
 * applies retention.
 *
 * One REPEATABLE READ transaction exports its snapshot; the row counts are read in it and pg_dump
 * dumps it (`--snapshot`), so the manifest's counts are exactly the dump's content even while
 * the application keeps writing. The transaction stays open (idle) until pg_dump is done.
 *
 * @throws HiddenRowsError when the role cannot see every row; Error when pg_dump fails or the
 *   dump is over 5 GiB; S3Error when the store refuses an upload (412 if the key already exists).
 * @example
 * const { manifest } = await createBackup({ databaseUrl, location, prefix: "meridian", retention: { keep: 14 } });
 */
export async function createBackup(opts: CreateBackupOptions): Promise<BackupResult> {
  const keys = backupKeys(opts.prefix, opts.now ?? new Date());
  const dir = await mkdtemp(join(tmpdir(), "meridian-backup-"));
  const dumpPath = join(dir, "meridian.dump");
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const mode = await rowSecurityMode(client);
    await client.query("begin isolation level repeatable read read only");
    // The transaction sits idle while pg_dump works; a server-side idle timeout would end it
    // and, with it, the snapshot pg_dump is reading.
    await client.query("set local idle_in_transaction_session_timeout = 0");
    await client.query("set local statement_timeout = 0");
    const { rows } = await client.query<{ snapshot: string; database: string; version: string }>(
      "select pg_export_snapshot() as snapshot, current_database() as database, current_setting('server_version') as version",
    );
    const { snapshot, database, version } = rows[0] as {
      snapshot: string;
      database: string;
      version: string;
    };
    const rowCounts = await countRows(client);
    await opts.afterSnapshot?.();

    const child = connectionForChild(opts.databaseUrl);
    await runPgProgram(
      "pg_dump",
      [
        "--format=custom",
        `--snapshot=${snapshot}`,
        `--file=${dumpPath}`,
        // A role under FORCE ROW LEVEL SECURITY (meridian_owner) sees every row through its
        // owner_maintenance policies, with row security on; off, pg_dump would stop with
        // "query would be affected by row-level security policy".
        ...(mode === "owner-policies" ? ["--enable-row-security"] : []),
        `--dbname=${child.url}`,
      ],
      child.env,
    );
    await client.query("commit");

    const { sha256, bytes } = await fileDigest(dumpPath);
    const manifest: BackupManifest = {
      format: "meridian-backup/1",
      dump: keys.dump,
      takenAt: keys.takenAt.toISOString(),
      database,
      serverVersion: version,
      pgDumpVersion: await pgProgramVersion("pg_dump"),
      rowSecurity: mode,
      bytes,
      sha256,
      rowCounts,
    };
    // Dump first, manifest second: the drill only takes backups that have both, so a failed
    // upload never looks like a usable backup.
    await putObjectFile(opts.location, keys.dump, dumpPath, { sha256, ifNoneMatch: true });
    await putObjectText(opts.location, keys.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    const deleted = await applyRetention(opts.location, opts.prefix, opts.retention, opts.now);
    return { manifest, deleted };
  } finally {
    await client.query("rollback").catch(() => undefined);
    await client.end().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
