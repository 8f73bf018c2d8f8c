/**
 * Object keys of backups: `<prefix>/meridian-2026-11-26T21-30-00Z.dump` and its manifest
 * `<prefix>/meridian-2026-11-26T21-30-00Z.json`. The UTC timestamp has fixed width, so key order
 * is time order, and it has no `:` (awkward in some tools and file systems).
 */

export interface BackupKeys {
  /** The custom-format dump (`pg_dump -Fc`). */
  dump: string;
  /** The JSON manifest: row counts in the dump's snapshot, checksum, versions. */
  manifest: string;
  /** The moment in the key, to the second. */
  takenAt: Date;
}

const NAME = /^meridian-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z\.(dump|json)$/;

/** `BACKUP_PREFIX` without leading or trailing slashes; empty puts backups at the bucket's root. */
export function normalizePrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, "");
}

/**
 * The keys of a backup taken at `at` (rounded down to the second).
 *
 * @example
 * backupKeys("meridian/prod", new Date("2026-11-26T21:30:00.500Z")).dump;
 * // "meridian/prod/meridian-2026-11-26T21-30-00Z.dump"
 */
export function backupKeys(prefix: string, at: Date): BackupKeys {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/:/g, "-");
  const base = `${withSlash(prefix)}meridian-${stamp}`;
  const takenAt = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return { dump: `${base}.dump`, manifest: `${base}.json`, takenAt };
}

/**
 * The backup a key belongs to, or undefined for anything else under the prefix (which retention
 * then leaves alone). Only keys directly under the prefix count, not deeper ones.
 *
 * @example
 * parseBackupKey("meridian/prod", "meridian/prod/meridian-2026-11-26T21-30-00Z.json")?.dump;
 * // "meridian/prod/meridian-2026-11-26T21-30-00Z.dump"
 */
export function parseBackupKey(prefix: string, key: string): BackupKeys | undefined {
  const head = withSlash(prefix);
  if (!key.startsWith(head)) return undefined;
  const match = NAME.exec(key.slice(head.length));
  if (!match) return undefined;
  const [, day, hh, mm, ss] = match;
  const takenAt = new Date(`${day}T${hh}:${mm}:${ss}Z`);
  if (Number.isNaN(takenAt.getTime())) return undefined;
  return backupKeys(prefix, takenAt);
}

/** Where listing starts: `<prefix>/meridian-` (or `meridian-` at the root). */
export function listPrefix(prefix: string): string {
  return `${withSlash(prefix)}meridian-`;
}

function withSlash(prefix: string): string {
  const clean = normalizePrefix(prefix);
  return clean ? `${clean}/` : "";
}
