import { createHash, createHmac } from "node:crypto";

/**
 * AWS Signature Version 4 for S3-compatible storage (AWS S3, Cloudflare R2, MinIO), header form.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 *
 * Kept here rather than pulled from an SDK because the backup scripts need four calls (PUT, GET,
 * ListObjectsV2, DELETE); the whole algorithm is below, checked against AWS's published example.
 */

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** R2 takes `auto`; AWS needs the bucket's region; MinIO accepts any (default `us-east-1`). */
  region: string;
}

export interface RequestToSign {
  method: string;
  url: URL;
  /** Extra headers to send and sign (e.g. `range`); `host` and the `x-amz-*` ones are added. */
  headers?: Record<string, string>;
  /**
   * Hex SHA-256 of the body. S3 checks an uploaded body against it, so a PUT signed with the
   * real hash cannot be stored corrupted. Use {@link EMPTY_SHA256} for requests without a body.
   */
  payloadSha256: string;
}

/** SHA-256 of zero bytes: the payload hash of GET, DELETE and list requests. */
export const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

/**
 * The headers to send with the request: the caller's, `host`, `x-amz-date`,
 * `x-amz-content-sha256` and `authorization`.
 *
 * @example
 * const headers = signRequest(
 *   { method: "GET", url: new URL("https://acct.r2.cloudflarestorage.com/backups/a.dump"), payloadSha256: EMPTY_SHA256 },
 *   { accessKeyId, secretAccessKey, region: "auto" },
 * );
 */
export function signRequest(
  request: RequestToSign,
  credentials: SigningCredentials,
  now: Date = new Date(),
): Record<string, string> {
  // 20130524T000000Z and 20130524: the timestamp and the date of the credential scope.
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  headers.host = request.url.host;
  headers["x-amz-date"] = amzDate;
  headers["x-amz-content-sha256"] = request.payloadSha256;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(request.url),
    canonicalQuery(request.url),
    // Each header as `name:value\n`, values trimmed with inner runs of spaces collapsed.
    names.map((name) => `${name}:${(headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join(""),
    signedHeaders,
    request.payloadSha256,
  ].join("\n");

  const scope = `${day}/${credentials.region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  // The signing key is derived per day, region and service, so a leaked key signs nothing else.
  const dateKey = hmac(`AWS4${credentials.secretAccessKey}`, day);
  const signingKey = hmac(hmac(hmac(dateKey, credentials.region), "s3"), "aws4_request");
  const signature = createHmac("sha256", signingKey).update(stringToSign).digest("hex");

  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/**
 * RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-._~` percent-encoded, in upper
 * case. `encodeURIComponent` leaves `!'()*` alone, so those are encoded by hand.
 */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The path as sent, each segment decoded and encoded again so both sides agree on one form. */
function canonicalPath(url: URL): string {
  // S3 (unlike other AWS services) signs the path encoded once, not twice.
  return url.pathname
    .split("/")
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join("/");
}

/** Parameters sorted by name, then value; names and values encoded; `name=` for empty values. */
function canonicalQuery(url: URL): string {
  return [...url.searchParams.entries()]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function sha256Hex(data: string): string {
  return createHash("sha256").update(data).digest("hex");
}
