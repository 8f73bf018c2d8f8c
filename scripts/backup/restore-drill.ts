/**
 * `npm run backup:restore-drill [-- --key <dump key>] [-- --keep] [-- --no-owner]`: downloads the
 * newest backup (or the named one), restores it into a new scratch database, compares every
 * table's row count with the counts recorded in the dump's snapshot, prints the comparison and
 * drops the scratch database (unless --keep). Exits 1 on any difference or failure.
 * The scratch database is created through RESTORE_ADMIN_URL (else the backup's database URL).
 */
import { parseArgs } from "node:util";
import { sourceDatabaseUrl, storageConfig } from "./config.ts";
import { runRestoreDrill } from "./drill.ts";
import { formatComparison } from "./row-counts.ts";

try {
  const { values } = parseArgs({
    options: {
      key: { type: "string" },
      keep: { type: "boolean", default: false },
      "no-owner": { type: "boolean", default: false },
    },
  });
  const storage = storageConfig();
  const result = await runRestoreDrill({
    location: storage.location,
    prefix: storage.prefix,
    adminUrl: process.env.RESTORE_ADMIN_URL || sourceDatabaseUrl(),
    ...(values.key ? { key: values.key } : {}),
    keep: values.keep,
    noOwner: values["no-owner"],
  });
  console.log(`backup ${result.manifest.dump} (taken ${result.manifest.takenAt})`);
  console.log(formatComparison(result.comparison));
  const differing = result.comparison.filter((row) => !row.ok).length;
  console.log(
    result.ok
      ? `restore drill passed: ${result.comparison.length} tables match`
      : `restore drill FAILED: ${differing} of ${result.comparison.length} tables differ`,
  );
  console.log(
    result.kept
      ? `scratch database kept: ${result.scratchDatabase}`
      : `scratch database ${result.scratchDatabase} dropped`,
  );
  if (!result.ok) process.exitCode = 1;
} catch (error) {
  console.error(`restore drill failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
