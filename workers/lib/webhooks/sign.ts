import { timingSafeEqual, toHex } from "../bytes";

/** How old (or how far in the future) a signature's timestamp may be before it is refused. */
export const DEFAULT_TOLERANCE_SEC = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message))));
}

/**
 * The `Meridian-Signature` header value for `body` sent at `timestampSec`:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is inside the
 * MAC so a captured request cannot be replayed later with a fresh timestamp; the key is the
 * whole `whsec_...` string as UTF-8, so receivers need no decoding step.
 *
 * @example
 * const header = await signWebhook(secret, body, Math.floor(Date.now() / 1000));
 */
export async function signWebhook(secret: string, body: string, timestampSec: number): Promise<string> {
  const t = Math.floor(timestampSec);
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

export interface VerifyOptions {
  /** Largest accepted distance between the header's timestamp and `now`, in seconds. @default 300 */
  toleranceSec?: number;
  /** The current time in Unix milliseconds (tests pin it). @default Date.now() */
  now?: number;
}

/** `t` and every `v1` of a header; null when it is not of our shape. */
function parseHeader(header: string): { t: number; signatures: string[] } | null {
  let t: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (!/^\d{1,12}$/.test(value)) return null;
      t = Number(value);
    } else if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) {
      signatures.push(value.toLowerCase());
    }
    // Unknown schemes (a future v2) are skipped, so a receiver keeps working when one is added.
  }
  return t === null || signatures.length === 0 ? null : { t, signatures };
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/**
 * Whether `header` is a valid `Meridian-Signature` for `body` under any of `secrets` (pass the
 * old and the new secret while switching over after a rotation), with a timestamp within
 * `toleranceSec` of now. Digests are compared in constant time. `body` must be the raw request
 * body, byte for byte: re-serialised JSON does not verify.
 *
 * @returns false for a malformed header, a stale timestamp or a mismatch; it never throws on input.
 * @example
 * const ok = await verifyWebhookSignature([current, previous], req.headers.get("Meridian-Signature") ?? "", raw);
 */
export async function verifyWebhookSignature(
  secrets: string | readonly string[],
  header: string,
  body: string,
  opts: VerifyOptions = {},
): Promise<boolean> {
  const parsed = parseHeader(header);
  if (!parsed) return false;
  const nowSec = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(nowSec - parsed.t) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return false;
  let valid = false;
  for (const secret of typeof secrets === "string" ? [secrets] : secrets) {
    const expected = hexBytes(await hmacHex(secret, `${parsed.t}.${body}`));
    // Every pair is compared, with no early exit, so timing reveals nothing about which matched.
    for (const signature of parsed.signatures) {
      if (timingSafeEqual(expected, hexBytes(signature))) valid = true;
    }
  }
  return valid;
}
