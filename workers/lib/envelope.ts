import { fromBase64, randomBytes } from "./bytes";
import { ApiError } from "./errors";

/**
 * Envelope encryption for tenant secrets (MCP tokens, webhook signing keys).
 *
 * Each value gets its own random AES-256-GCM data key (DEK). The DEK encrypts the value with the
 * tenant id and secret name as additional data, so a ciphertext copied to another tenant or name
 * fails to open. The DEK is then encrypted ("wrapped") under a master key from
 * `SECRETS_MASTER_KEYS`. Rotating a master key only re-wraps the 60-byte DEKs (`rewrap`); values
 * are never re-encrypted, and both keys stay configured until every row has moved, so rotation
 * needs no downtime.
 *
 * `SECRETS_MASTER_KEYS` is `kid:base64(32 bytes)` pairs separated by commas. The first encrypts;
 * all of them decrypt.
 */

/**
 * A sealed value, as stored. Byte layout:
 * - `iv`: 12 random bytes, the value's AES-GCM nonce.
 * - `ciphertext`: AES-GCM(DEK, iv, plaintext UTF-8, aad = ["meridian/secret/v1", tenantId, name]) with
 *   its 16-byte tag appended.
 * - `wrappedDek`: 60 bytes = wrap IV (12) || AES-GCM(master key, wrap IV, DEK (32),
 *   aad = ["meridian/dek/v1", keyId]) || tag (16).
 * - `keyId`: the kid of the master key that wrapped the DEK.
 */
export interface SealedSecret {
  keyId: string;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  wrappedDek: Uint8Array;
}

/** Which secret a value is; bound into its ciphertext. */
export interface SecretContext {
  tenantId: string;
  name: string;
}

const IV_BYTES = 12;
const DEK_BYTES = 32;
const TAG_BYTES = 16;
const WRAPPED_DEK_BYTES = IV_BYTES + DEK_BYTES + TAG_BYTES;
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

interface Keyring {
  currentKid: string;
  keys: Map<string, CryptoKey>;
}

// Per isolate, keyed by the whole config string: it is the same string for every request of a
// deployment, so keys are imported once per isolate rather than once per secret. Keys are
// imported non-extractable. The bound only matters for tests that build many configs.
const keyrings = new Map<string, Promise<Keyring>>();
const MAX_CACHED_KEYRINGS = 16;

/**
 * Encrypts a secret value for one tenant and name under the current (first) master key.
 *
 * @throws {ApiError} BAD_ENVIRONMENT when `SECRETS_MASTER_KEYS` is malformed.
 * @example
 * const sealed = await seal(config.SECRETS_MASTER_KEYS, { tenantId, name: "github-token" }, token);
 */
export async function seal(
  masterKeys: string,
  context: SecretContext,
  plaintext: string,
): Promise<SealedSecret> {
  const ring = await keyring(masterKeys);
  // Extractable only so wrapKey can export it; it never leaves this function unwrapped.
  const dek = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, [
    "encrypt",
  ])) as CryptoKey;
  const iv = randomBytes(IV_BYTES);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: valueAad(context) },
      dek,
      new TextEncoder().encode(plaintext),
    ),
  );
  const wrappedDek = await wrapDek(ring, ring.currentKid, dek);
  return { keyId: ring.currentKid, iv, ciphertext, wrappedDek };
}

/**
 * Decrypts a sealed value. Works with any configured master key, so values sealed before a
 * rotation still open.
 *
 * @throws {ApiError} BAD_ENVIRONMENT when the value's master key is not configured (it was
 *   removed before every value was re-wrapped) or the config is malformed.
 * @throws {ApiError} INTERNAL when authentication fails: a field was altered, or the value is
 *   opened under another tenant or name.
 * @example
 * const token = await open(config.SECRETS_MASTER_KEYS, { tenantId, name: "github-token" }, row);
 */
export async function open(
  masterKeys: string,
  context: SecretContext,
  sealed: SealedSecret,
): Promise<string> {
  const ring = await keyring(masterKeys);
  const dek = await unwrapDek(ring, sealed, false);
  try {
    if (sealed.iv.byteLength !== IV_BYTES) throw new Error(`iv is ${sealed.iv.byteLength} bytes`);
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.iv, additionalData: valueAad(context) },
      dek,
      sealed.ciphertext,
    );
    // ignoreBOM keeps a leading U+FEFF, so every string comes back exactly as sealed.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plaintext);
  } catch (err) {
    throw undecryptable(err);
  }
}

/**
 * Re-wraps a value's data key under the current master key, leaving `iv` and `ciphertext`
 * untouched; the rotation job runs this over every row, then the old key is removed from config.
 * Returns the same object when the value is already under the current key, so the job can skip
 * the write. It cannot check the value's tenant and name binding (that needs the context), only
 * that the wrapped data key is authentic.
 *
 * @throws {ApiError} BAD_ENVIRONMENT when the value's master key is not configured.
 * @throws {ApiError} INTERNAL when the wrapped data key was altered.
 * @example
 * const next = await rewrap(config.SECRETS_MASTER_KEYS, row);
 * if (next !== row) await saveSealed(row.id, next);
 */
export async function rewrap(masterKeys: string, sealed: SealedSecret): Promise<SealedSecret> {
  const ring = await keyring(masterKeys);
  if (sealed.keyId === ring.currentKid) return sealed;
  const dek = await unwrapDek(ring, sealed, true);
  return { ...sealed, keyId: ring.currentKid, wrappedDek: await wrapDek(ring, ring.currentKid, dek) };
}

function keyring(masterKeys: string): Promise<Keyring> {
  let ring = keyrings.get(masterKeys);
  if (!ring) {
    if (keyrings.size >= MAX_CACHED_KEYRINGS) keyrings.clear();
    ring = importKeyring(masterKeys);
    keyrings.set(masterKeys, ring);
    // Never cache a failure: a fixed config must take effect without a new isolate.
    ring.catch(() => keyrings.delete(masterKeys));
  }
  return ring;
}

async function importKeyring(masterKeys: string): Promise<Keyring> {
  const entries = masterKeys
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length === 0) throw badConfig("it has no keys");
  const keys = new Map<string, CryptoKey>();
  let currentKid = "";
  for (const [i, entry] of entries.entries()) {
    // Errors name the entry by position and kid only: the key material must not reach a log.
    const colon = entry.indexOf(":");
    const kid = entry.slice(0, Math.max(colon, 0)).trim();
    if (colon < 0 || !KID_PATTERN.test(kid))
      throw badConfig(`entry ${i + 1} is not kid:base64 with a kid of [A-Za-z0-9._-]`);
    if (keys.has(kid)) throw badConfig(`kid "${kid}" appears twice`);
    let raw: Uint8Array;
    try {
      raw = fromBase64(entry.slice(colon + 1).trim());
    } catch {
      throw badConfig(`the key of "${kid}" is not base64`);
    }
    if (raw.byteLength !== DEK_BYTES) throw badConfig(`the key of "${kid}" is not 32 bytes`);
    keys.set(kid, await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["wrapKey", "unwrapKey"]));
    if (i === 0) currentKid = kid;
  }
  return { currentKid, keys };
}

async function wrapDek(ring: Keyring, kid: string, dek: CryptoKey): Promise<Uint8Array> {
  const master = ring.keys.get(kid) as CryptoKey;
  const iv = randomBytes(IV_BYTES);
  const wrapped = new Uint8Array(
    await crypto.subtle.wrapKey("raw", dek, master, { name: "AES-GCM", iv, additionalData: dekAad(kid) }),
  );
  const out = new Uint8Array(IV_BYTES + wrapped.byteLength);
  out.set(iv);
  out.set(wrapped, IV_BYTES);
  return out;
}

async function unwrapDek(ring: Keyring, sealed: SealedSecret, extractable: boolean): Promise<CryptoKey> {
  const master = ring.keys.get(sealed.keyId);
  if (!master) {
    throw new ApiError("BAD_ENVIRONMENT", {
      detail: `A stored secret was sealed under master key "${sealed.keyId}", which SECRETS_MASTER_KEYS no longer lists.`,
    });
  }
  try {
    if (sealed.wrappedDek.byteLength !== WRAPPED_DEK_BYTES) {
      throw new Error(`wrapped data key is ${sealed.wrappedDek.byteLength} bytes`);
    }
    return await crypto.subtle.unwrapKey(
      "raw",
      sealed.wrappedDek.subarray(IV_BYTES),
      master,
      { name: "AES-GCM", iv: sealed.wrappedDek.subarray(0, IV_BYTES), additionalData: dekAad(sealed.keyId) },
      "AES-GCM",
      extractable,
      ["decrypt"],
    );
  } catch (err) {
    throw undecryptable(err);
  }
}

// JSON arrays of strings are unambiguous, unlike joining with a separator the values may contain.
function valueAad({ tenantId, name }: SecretContext): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(["meridian/secret/v1", tenantId, name]));
}

function dekAad(kid: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(["meridian/dek/v1", kid]));
}

function badConfig(why: string): ApiError {
  return new ApiError("BAD_ENVIRONMENT", { detail: `SECRETS_MASTER_KEYS is malformed: ${why}.` });
}

function undecryptable(cause: unknown): ApiError {
  return new ApiError("INTERNAL", {
    detail: "A stored secret could not be decrypted: it was altered or belongs to another tenant or name.",
    cause,
  });
}
