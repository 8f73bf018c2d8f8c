import { type BackupKeys, listPrefix, parseBackupKey } from "./backup-keys.ts";
import { deleteObject, listObjects, type S3Location } from "./s3.ts";

export interface RetentionPolicy {
  /** The newest this many backups are always kept (at least 1). @default 14 */
  keep: number;
  /**
   * Also keep every backup younger than this many days, however many there are. Unset: only
   * `keep` decides. A backup is deleted only when it is outside both.
   */
  maxAgeDays?: number;
}

/** One backup found in the bucket: its keys and which of its two objects exist. */
export interface StoredBackup extends BackupKeys {
  hasDump: boolean;
  hasManifest: boolean;
}

/**
 * The backups under `prefix`, newest first. Objects whose names are not backup keys are left out
 * (and so never deleted by retention).
 *
 * @throws S3Error when listing fails.
 */
export async function listBackups(location: S3Location, prefix: string): Promise<StoredBackup[]> {
  const byDump = new Map<string, StoredBackup>();
  for (const object of await listObjects(location, listPrefix(prefix))) {
    const keys = parseBackupKey(prefix, object.key);
    if (!keys) continue;
    const entry = byDump.get(keys.dump) ?? { ...keys, hasDump: false, hasManifest: false };
    if (object.key === keys.dump) entry.hasDump = true;
    else entry.hasManifest = true;
    byDump.set(keys.dump, entry);
  }
  return [...byDump.values()].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
}

/**
 * The backups the policy lets go: not among the newest `keep`, and (when `maxAgeDays` is set)
 * older than that. Pure, so the rule is tested without a bucket.
 *
 * @example
 * expiredBackups(backups, { keep: 14, maxAgeDays: 30 }, new Date());
 */
export function expiredBackups<T extends { takenAt: Date }>(
  backups: T[],
  policy: RetentionPolicy,
  now: Date,
): T[] {
  const keep = Math.max(1, Math.floor(policy.keep));
  const newestFirst = [...backups].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  return newestFirst.filter((backup, index) => {
    if (index < keep) return false;
    if (policy.maxAgeDays === undefined) return true;
    return now.getTime() - backup.takenAt.getTime() > policy.maxAgeDays * 86_400_000;
  });
}

/**
 * Deletes the expired backups (dump and manifest). The dump goes first: a manifest without its
 * dump is ignored by the restore drill, while a dump without its manifest could not be checked.
 *
 * @throws S3Error when listing or a delete fails; what was deleted before stays deleted.
 * @example
 * const deleted = await applyRetention(location, "meridian/prod", { keep: 14 });
 */
export async function applyRetention(
  location: S3Location,
  prefix: string,
  policy: RetentionPolicy,
  now = new Date(),
): Promise<StoredBackup[]> {
  const expired = expiredBackups(await listBackups(location, prefix), policy, now);
  for (const backup of expired) {
    if (backup.hasDump) await deleteObject(location, backup.dump);
    if (backup.hasManifest) await deleteObject(location, backup.manifest);
  }
  return expired;
}
