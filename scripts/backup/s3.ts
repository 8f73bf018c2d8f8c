import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EMPTY_SHA256, type SigningCredentials, signRequest, uriEncode } from "./sigv4.ts";

/**
 * The four S3 REST calls the backups need, path-style (`<endpoint>/<bucket>/<key>`), which AWS
 * S3, R2 and MinIO all answer. Bodies stream from and to files, so a dump is never held in memory.
 */

export interface S3Location extends SigningCredentials {
  /** e.g. `https://<account>.r2.cloudflarestorage.com`, `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`. */
  endpoint: string;
  bucket: string;
}

export interface S3Object {
  key: string;
  size: number;
  lastModified: Date;
}

/** A single PUT takes at most 5 GiB on AWS S3 and R2; bigger objects need a multipart upload. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

/** An S3 error answer: the HTTP status and the `<Code>` of its XML body (e.g. `NoSuchKey`). */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "S3Error";
  }
}

/**
 * Uploads a file with one signed PUT, streamed, with its SHA-256 signed so the store refuses a
 * corrupted body. `ifNoneMatch` refuses to overwrite an existing key (412).
 *
 * @throws Error when the file is over {@link MAX_SINGLE_PUT_BYTES}; S3Error on an error answer.
 * @example
 * await putObjectFile(location, "backups/meridian-2026-11-26T21-30-00Z.dump", "/tmp/db.dump", { sha256 });
 */
export async function putObjectFile(
  location: S3Location,
  key: string,
  path: string,
  opts: { sha256: string; contentType?: string; ifNoneMatch?: boolean },
): Promise<void> {
  const { size } = await stat(path);
  if (size > MAX_SINGLE_PUT_BYTES) {
    throw new Error(
      `${path} is ${size} bytes; one PUT takes at most ${MAX_SINGLE_PUT_BYTES} (5 GiB) and multipart upload is not implemented`,
    );
  }
  const res = await send(location, "PUT", key, {
    payloadSha256: opts.sha256,
    headers: {
      "content-type": opts.contentType ?? "application/octet-stream",
      "content-length": String(size),
      ...(opts.ifNoneMatch ? { "if-none-match": "*" } : {}),
    },
    body: createReadStream(path),
  });
  await drain(await ok(res));
}

/**
 * Uploads a small text object (a manifest).
 *
 * @throws S3Error on an error answer.
 */
export async function putObjectText(
  location: S3Location,
  key: string,
  text: string,
  contentType = "application/json",
): Promise<void> {
  const body = Buffer.from(text, "utf8");
  const res = await send(location, "PUT", key, {
    payloadSha256: createHash("sha256").update(body).digest("hex"),
    headers: { "content-type": contentType, "content-length": String(body.length) },
    body,
  });
  await drain(await ok(res));
}

/**
 * Downloads an object into a file.
 *
 * @throws S3Error (404 `NoSuchKey` for a missing key) on an error answer.
 */
export async function getObjectToFile(location: S3Location, key: string, path: string): Promise<void> {
  const res = await ok(await send(location, "GET", key));
  await pipeline(res, createWriteStream(path));
}

/**
 * Reads a small object as text.
 *
 * @throws S3Error on an error answer.
 */
export async function getObjectText(location: S3Location, key: string): Promise<string> {
  return readAll(await ok(await send(location, "GET", key)));
}

/**
 * Deletes an object. S3 answers 204 whether or not the key existed.
 *
 * @throws S3Error on an error answer.
 */
export async function deleteObject(location: S3Location, key: string): Promise<void> {
  await drain(await ok(await send(location, "DELETE", key)));
}

/**
 * Every object under `prefix`, in key order, following ListObjectsV2's continuation tokens.
 *
 * @throws S3Error on an error answer.
 * @example
 * const objects = await listObjects(location, "meridian/prod/");
 */
export async function listObjects(location: S3Location, prefix: string): Promise<S3Object[]> {
  const objects: S3Object[] = [];
  let token: string | undefined;
  do {
    const query: Record<string, string> = { "list-type": "2", prefix };
    if (token) query["continuation-token"] = token;
    const res = await ok(await send(location, "GET", "", { query }));
    const page = parseListObjectsV2(await readAll(res));
    objects.push(...page.objects);
    token = page.nextToken;
  } while (token);
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Reads one ListObjectsV2 answer (`ListBucketResult`); keys come XML-escaped. */
export function parseListObjectsV2(xml: string): { objects: S3Object[]; nextToken?: string } {
  const objects: S3Object[] = [];
  for (const [, contents = ""] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const key = tag(contents, "Key");
    if (key === undefined) continue;
    objects.push({
      key,
      size: Number(tag(contents, "Size") ?? 0),
      lastModified: new Date(tag(contents, "LastModified") ?? 0),
    });
  }
  const truncated = tag(xml, "IsTruncated") === "true";
  const nextToken = truncated ? tag(xml, "NextContinuationToken") : undefined;
  return nextToken ? { objects, nextToken } : { objects };
}

function tag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match?.[1] === undefined ? undefined : unescapeXml(match[1]);
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name, dec, hex) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(Number.parseInt(hex, 16));
    return { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" }[name as "lt"] ?? "";
  });
}

interface SendOptions {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  payloadSha256?: string;
  body?: Readable | Buffer;
}

/** Signs and sends one request; resolves with the response once its headers arrive. */
function send(
  location: S3Location,
  method: string,
  key: string,
  opts: SendOptions = {},
): Promise<IncomingMessage> {
  const url = new URL(location.endpoint);
  const base = url.pathname.replace(/\/+$/, "");
  url.pathname = `${base}/${uriEncode(location.bucket)}${key ? `/${key.split("/").map(uriEncode).join("/")}` : ""}`;
  // Built by hand so the query on the wire is exactly the signed one (URLSearchParams would send
  // spaces as `+`, which S3 reads as a literal plus).
  url.search = Object.entries(opts.query ?? {})
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .join("&");
  const headers = signRequest(
    { method, url, headers: opts.headers ?? {}, payloadSha256: opts.payloadSha256 ?? EMPTY_SHA256 },
    location,
  );
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, resolve);
    req.on("error", reject);
    const body = opts.body;
    if (!body) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch(reject);
  });
}

/** The response itself when 2xx (body unread); otherwise an S3Error with the XML body's code and message. */
async function ok(res: IncomingMessage): Promise<IncomingMessage> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return res;
  const text = await readAll(res);
  const code = tag(text, "Code") ?? `HTTP${status}`;
  const message = tag(text, "Message") ?? (text.slice(0, 200) || "no body");
  throw new S3Error(status, code, `S3 answered ${status} ${code}: ${message}`);
}

async function drain(res: IncomingMessage): Promise<void> {
  await readAll(res);
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
