/**
 * `npm run backup`: dumps the database named by BACKUP_DATABASE_URL (else DATABASE_URL) with
 * pg_dump -Fc, stores it and its manifest in S3-compatible storage, and deletes backups past
 * retention. Settings: scripts/backup/config.ts; guide: docs/backups.md. Exits 1 on any failure,
 * so a scheduler sees it.
 */
import { retentionPolicy, sourceDatabaseUrl, storageConfig } from "./config.ts";
import { createBackup } from "./create-backup.ts";

try {
  const storage = storageConfig();
  const started = performance.now();
  const { manifest, deleted } = await createBackup({
    databaseUrl: sourceDatabaseUrl(),
    location: storage.location,
    prefix: storage.prefix,
    retention: retentionPolicy(),
  });
  const rows = Object.values(manifest.rowCounts).reduce((sum, n) => sum + n, 0);
  const tables = Object.keys(manifest.rowCounts).length;
  console.log(`stored ${manifest.dump} (${manifest.bytes} bytes, sha256 ${manifest.sha256})`);
  console.log(
    `database ${manifest.database} (PostgreSQL ${manifest.serverVersion}): ${tables} tables, ${rows} rows; ${manifest.pgDumpVersion}`,
  );
  for (const backup of deleted) console.log(`retention: deleted ${backup.dump}`);
  console.log(`done in ${Math.round(performance.now() - started)} ms`);
} catch (error) {
  console.error(`backup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
