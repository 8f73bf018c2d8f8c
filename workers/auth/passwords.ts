import { fromBase64Url, randomBytes, timingSafeEqual, toBase64Url } from "../lib/bytes";

/**
 * PBKDF2-HMAC-SHA256 at 100,000 iterations (the most workerd's WebCrypto allows) over an
 * HMAC of the password keyed with a server-side pepper. A database dump alone cannot be
 * attacked offline without the pepper, which lives in the Worker's secrets. See
 * docs/security.md for why not scrypt/Argon2id in JavaScript (CPU budget per request).
 */
export const CURRENT_ITERATIONS = 100_000;
const SCHEME = "pbkdf2-sha256";
const enc = new TextEncoder();

async function pepperedKey(password: string, pepper: string): Promise<CryptoKey> {
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    enc.encode(pepper),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const peppered = await crypto.subtle.sign("HMAC", hmacKey, enc.encode(password.normalize("NFKC")));
  return crypto.subtle.importKey("raw", peppered, "PBKDF2", false, ["deriveBits"]);
}

async function derive(
  password: string,
  pepper: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const key = await pepperedKey(password, pepper);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * Hashes a password into a self-describing string that records its parameters, so they can
 * be raised later and old hashes upgraded on login.
 *
 * @example
 * const stored = await hashPassword("correct horse", pepper); // "pbkdf2-sha256$100000$<salt>$<hash>"
 */
export async function hashPassword(password: string, pepper: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, pepper, salt, CURRENT_ITERATIONS);
  return `${SCHEME}$${CURRENT_ITERATIONS}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/** Checks a password against a stored hash in constant time. Malformed hashes never match. */
export async function verifyPassword(password: string, stored: string, pepper: string): Promise<boolean> {
  const [scheme, iter, salt, hash] = stored.split("$");
  const iterations = Number(iter);
  if (scheme !== SCHEME || !salt || !hash || !Number.isInteger(iterations) || iterations < 1) return false;
  const actual = await derive(
    password,
    pepper,
    fromBase64Url(salt),
    Math.min(iterations, CURRENT_ITERATIONS),
  );
  return timingSafeEqual(actual, fromBase64Url(hash));
}

/** Whether a stored hash uses weaker parameters than today's. */
export function needsRehash(stored: string): boolean {
  const [scheme, iter] = stored.split("$");
  return scheme !== SCHEME || Number(iter) < CURRENT_ITERATIONS;
}

/** A valid hash of a random password: verified against when the user is unknown, so timing is the same. */
export const DECOY_HASH = `${SCHEME}$${CURRENT_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
