import { and, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import { tenantSecrets } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import type { Config } from "../env";
import { open, rewrap, seal } from "./envelope";

/**
 * Tenant secrets (MCP server tokens, provider keys): named values sealed with `envelope.ts`,
 * one namespace per tenant. Every function takes the request's tenant-scoped `db`, so the
 * tenant wall (RLS + the explicit tenant filter) applies; the value is bound to its tenant and
 * name inside the ciphertext as well, so a row copied elsewhere does not open.
 *
 * Values leave this module only through `getSecretValue`. Nothing here logs, and the other
 * functions return metadata alone, so a route cannot echo a value by accident.
 */

/** What the master keys are read from: the Worker's parsed config. */
export type SecretsConfig = Pick<Config, "SECRETS_MASTER_KEYS">;

/** A secret's name: an identifier, so workflows can reference it as `{{secrets.NAME}}`. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A secret without its value. */
export interface SecretInfo {
  id: string;
  name: string;
  /** The master key that wraps the value's data key; shows rotation progress. */
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

const info = {
  id: tenantSecrets.id,
  name: tenantSecrets.name,
  keyId: tenantSecrets.keyId,
  createdAt: tenantSecrets.createdAt,
  updatedAt: tenantSecrets.updatedAt,
};

/**
 * Creates or replaces the secret `name` with `value`, sealed under the current master key.
 * One upsert, so two concurrent writes of a new name cannot collide on the unique key.
 *
 * @returns the secret's metadata and whether it was created (false: an existing value was replaced).
 * @throws {ApiError} BAD_ENVIRONMENT when `SECRETS_MASTER_KEYS` is malformed.
 * @throws Error when `name` is not a valid secret name (routes validate it first).
 * @example
 * const { secret, created } = await putSecret(c.get("db"), c.get("config"), "GITHUB_TOKEN", token);
 */
export async function putSecret(
  db: TenantDb,
  config: SecretsConfig,
  name: string,
  value: string,
): Promise<{ secret: SecretInfo; created: boolean }> {
  if (!SECRET_NAME.test(name)) throw new Error("putSecret: invalid secret name");
  const sealed = await seal(config.SECRETS_MASTER_KEYS, { tenantId: db.tenantId, name }, value);
  const [row] = await db
    .insert(tenantSecrets)
    .values({ tenantId: db.tenantId, name, ...sealed })
    .onConflictDoUpdate({
      target: [tenantSecrets.tenantId, tenantSecrets.name],
      set: { ...sealed, updatedAt: sql`now()` },
    })
    // xmax is 0 only on a freshly inserted row version, so it tells insert from update
    // without a second round trip.
    .returning({ ...info, created: sql<boolean>`(xmax = 0)` });
  if (!row) throw new Error("putSecret: upsert returned no row");
  const { created, ...secret } = row;
  return { secret, created };
}

/**
 * The plaintext of the secret `name`, or null when the tenant has no such secret. For the
 * runtime (MCP clients, model providers); never for an API response.
 *
 * @throws {ApiError} BAD_ENVIRONMENT when the value's master key is no longer configured.
 * @throws {ApiError} INTERNAL when the stored value was altered.
 * @example
 * const token = await getSecretValue(db, config, "GITHUB_TOKEN");
 * if (token === null) throw new ApiError("UNPROCESSABLE", { detail: "GITHUB_TOKEN is not set." });
 */
export async function getSecretValue(
  db: TenantDb,
  config: SecretsConfig,
  name: string,
): Promise<string | null> {
  const [row] = await db
    .select()
    .from(tenantSecrets)
    .where(and(eq(tenantSecrets.tenantId, db.tenantId), eq(tenantSecrets.name, name)));
  if (!row) return null;
  return open(config.SECRETS_MASTER_KEYS, { tenantId: db.tenantId, name }, row);
}

/**
 * Deletes the secret `name` for good (there is nothing to restore a secret for: the value
 * can be set again).
 *
 * @returns the deleted secret's metadata, or null when there was none.
 * @example
 * if (!(await deleteSecret(db, "GITHUB_TOKEN"))) throw new ApiError("NOT_FOUND");
 */
export async function deleteSecret(db: TenantDb, name: string): Promise<SecretInfo | null> {
  const [row] = await db
    .delete(tenantSecrets)
    .where(and(eq(tenantSecrets.tenantId, db.tenantId), eq(tenantSecrets.name, name)))
    .returning(info);
  return row ?? null;
}

/**
 * The tenant's secrets without values, newest first by id; pass the last id as `after` for
 * the next page.
 *
 * @example
 * const rows = await listSecretNames(db, { limit: limit + 1, after });
 */
export async function listSecretNames(
  db: TenantDb,
  opts: { limit?: number; after?: string | undefined } = {},
): Promise<SecretInfo[]> {
  const filters: SQL[] = [eq(tenantSecrets.tenantId, db.tenantId)];
  if (opts.after) filters.push(lt(tenantSecrets.id, opts.after));
  return db
    .select(info)
    .from(tenantSecrets)
    .where(and(...filters))
    .orderBy(desc(tenantSecrets.id))
    .limit(opts.limit ?? 100);
}

/**
 * Re-wraps every data key of the tenant that is not under the current master key, so an old
 * key can be removed from `SECRETS_MASTER_KEYS` once every tenant has been run. Values are not
 * re-encrypted and never leave the envelope.
 *
 * @returns how many secrets were re-wrapped.
 * @throws {ApiError} BAD_ENVIRONMENT when a row's master key is not configured.
 * @throws {ApiError} INTERNAL when a wrapped data key was altered.
 * @example
 * await withTenant(client, tenantId, (db) => rewrapSecrets(db, config));
 */
export async function rewrapSecrets(db: TenantDb, config: SecretsConfig): Promise<number> {
  const rows = await db
    .select()
    .from(tenantSecrets)
    .where(eq(tenantSecrets.tenantId, db.tenantId))
    .for("update");
  let rewrapped = 0;
  for (const row of rows) {
    const next = await rewrap(config.SECRETS_MASTER_KEYS, row);
    if (next === row) continue;
    // updatedAt keeps meaning "value last set": a rotation does not change the value.
    await db
      .update(tenantSecrets)
      .set({ keyId: next.keyId, wrappedDek: next.wrappedDek, updatedAt: row.updatedAt })
      .where(and(eq(tenantSecrets.tenantId, db.tenantId), eq(tenantSecrets.id, row.id)));
    rewrapped++;
  }
  return rewrapped;
}
