import { z } from "zod";

/**
 * What is stored beside each dump. The row counts were read in the same snapshot pg_dump dumped
 * (`pg_dump --snapshot`), so a restore of that dump must reproduce them exactly, however much
 * the live database has changed since.
 */
export const backupManifest = z.object({
  format: z.literal("meridian-backup/1"),
  /** Key of the dump this manifest describes. */
  dump: z.string().min(1),
  takenAt: z.string().datetime(),
  database: z.string(),
  serverVersion: z.string(),
  pgDumpVersion: z.string(),
  /** How the dumping role saw every row (see row-counts.ts). */
  rowSecurity: z.enum(["bypass", "owner-policies"]),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** `schema.table` -> rows, in the dump's snapshot. */
  rowCounts: z.record(z.string(), z.number().int().nonnegative()),
});

export type BackupManifest = z.infer<typeof backupManifest>;
