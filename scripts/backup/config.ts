import type { RetentionPolicy } from "./retention.ts";
import type { S3Location } from "./s3.ts";

/**
 * The backup scripts' settings, from the environment (see docs/backups.md):
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | `BACKUP_DATABASE_URL` (else `DATABASE_URL`) | the database to dump, as its owner (`meridian_owner`), never the app role | required |
 * | `S3_ENDPOINT`, `S3_BUCKET` | S3-compatible endpoint (R2, S3, MinIO) and bucket | required |
 * | `S3_REGION` | signing region | `auto` (R2) |
 * | `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY` | credentials | required |
 * | `BACKUP_PREFIX` | key prefix in the bucket | `meridian` |
 * | `BACKUP_KEEP` | newest backups always kept | `14` |
 * | `BACKUP_MAX_AGE_DAYS` | also keep every backup younger than this | unset |
 * | `RESTORE_ADMIN_URL` | restore drill: a role that may CREATE DATABASE on the scratch server | the dump URL |
 * | `BACKUP_PG_BIN_DIR` | where pg_dump and pg_restore are | PATH |
 */

export interface StorageConfig {
  location: S3Location;
  prefix: string;
}

/**
 * @throws Error naming every missing variable (never a value).
 */
export function storageConfig(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  const missing = ["S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"].filter(
    (name) => !env[name],
  );
  if (missing.length > 0) throw new Error(`missing configuration: ${missing.join(", ")}`);
  const endpoint = env.S3_ENDPOINT as string;
  if (!/^https?:\/\//.test(endpoint)) throw new Error("S3_ENDPOINT must be an http(s) URL");
  return {
    location: {
      endpoint,
      bucket: env.S3_BUCKET as string,
      region: env.S3_REGION || "auto",
      accessKeyId: env.S3_ACCESS_KEY_ID as string,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY as string,
    },
    prefix: env.BACKUP_PREFIX ?? "meridian",
  };
}

/**
 * The database to dump: `BACKUP_DATABASE_URL`, else `DATABASE_URL`.
 *
 * @throws Error when neither is set.
 */
export function sourceDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.BACKUP_DATABASE_URL || env.DATABASE_URL;
  if (!url) throw new Error("missing configuration: BACKUP_DATABASE_URL (or DATABASE_URL)");
  return url;
}

/**
 * `BACKUP_KEEP` and `BACKUP_MAX_AGE_DAYS`.
 *
 * @throws Error when either is not a positive whole number.
 */
export function retentionPolicy(env: NodeJS.ProcessEnv = process.env): RetentionPolicy {
  const keep = positiveInt(env.BACKUP_KEEP, "BACKUP_KEEP") ?? 14;
  const maxAgeDays = positiveInt(env.BACKUP_MAX_AGE_DAYS, "BACKUP_MAX_AGE_DAYS");
  return maxAgeDays === undefined ? { keep } : { keep, maxAgeDays };
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1`);
  return n;
}
