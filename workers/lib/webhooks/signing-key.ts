import { sql } from "drizzle-orm";
import type { TenantDb } from "../../../db/tenant";
import { randomBytes, toBase64Url } from "../bytes";
import { getSecretValue, putSecret, type SecretsConfig } from "../secrets";

/**
 * Where the tenant's webhook signing secret is kept: an ordinary tenant secret (sealed with the
 * secrets envelope) under a name in the reserved `meridian_` namespace, which the secrets API
 * refuses to read, write, delete or list, so only this module touches it.
 */
export const WEBHOOK_SIGNING_KEY_NAME = "meridian_webhook_signing_key";

/** `whsec_` and 32 random bytes, base64url: 256 bits, the HMAC-SHA256 block's worth. */
export function newSigningSecret(): string {
  return `whsec_${toBase64Url(randomBytes(32))}`;
}

/**
 * The tenant's signing secret, or null before its first use. Safe in a read-only transaction.
 *
 * @throws {ApiError} BAD_ENVIRONMENT / INTERNAL as `getSecretValue` does.
 */
export function getSigningSecret(db: TenantDb, config: SecretsConfig): Promise<string | null> {
  return getSecretValue(db, config, WEBHOOK_SIGNING_KEY_NAME);
}

/**
 * The tenant's signing secret, created on first use. A transaction-scoped advisory lock on the
 * tenant serialises two first uses (a delivery and an admin's GET, say), so the second finds
 * the first's secret instead of overwriting it: a webhook is never signed with a key that no
 * longer exists. Needs a writable transaction.
 *
 * @throws {ApiError} BAD_ENVIRONMENT when `SECRETS_MASTER_KEYS` is malformed.
 * @example
 * const secret = await ensureSigningSecret(db, config);
 */
export async function ensureSigningSecret(db: TenantDb, config: SecretsConfig): Promise<string> {
  const existing = await getSigningSecret(db, config);
  if (existing !== null) return existing;
  await lockSigningKey(db);
  const raced = await getSigningSecret(db, config);
  if (raced !== null) return raced;
  const secret = newSigningSecret();
  await putSecret(db, config, WEBHOOK_SIGNING_KEY_NAME, secret);
  return secret;
}

/**
 * Replaces the tenant's signing secret with a new one and returns it. The old secret stops
 * signing at once (no overlap is kept): receivers should accept both during their own
 * switch-over, which `verifyWebhookSignature` supports by taking several secrets. Retries of
 * deliveries already in flight are signed with the new secret.
 */
export async function rotateSigningSecret(db: TenantDb, config: SecretsConfig): Promise<string> {
  await lockSigningKey(db);
  const secret = newSigningSecret();
  await putSecret(db, config, WEBHOOK_SIGNING_KEY_NAME, secret);
  return secret;
}

function lockSigningKey(db: TenantDb) {
  return db.execute(
    sql`select pg_advisory_xact_lock(hashtext(${`${WEBHOOK_SIGNING_KEY_NAME}:${db.tenantId}`}))`,
  );
}
