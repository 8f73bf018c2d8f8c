import { randomBytes, sha256Hex, toBase64Url, toHex } from "../lib/bytes";

const PREFIX = "mk_";

/**
 * A new API key. Only its hash is stored; the plaintext is shown once. The visible prefix
 * (`mk_` + 8 hex chars) lets users tell keys apart in lists and logs.
 *
 * @example
 * const { plaintext, prefix, hash } = await mintApiKey(); // "mk_1a2b3c4d_..."
 */
export async function mintApiKey(): Promise<{ plaintext: string; prefix: string; hash: string }> {
  const prefix = `${PREFIX}${toHex(randomBytes(4))}`;
  const plaintext = `${prefix}_${toBase64Url(randomBytes(32))}`;
  return { plaintext, prefix, hash: await hashApiKey(plaintext) };
}

/** The stored form of a key: SHA-256 suffices because keys carry 256 random bits. */
export function hashApiKey(plaintext: string): Promise<string> {
  return sha256Hex(plaintext);
}

/** Whether a bearer credential has the shape of an API key (as opposed to a JWT). */
export function looksLikeApiKey(credential: string): boolean {
  return /^mk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/.test(credential);
}
