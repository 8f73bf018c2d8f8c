import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { signRequest } from "../backup/sigv4.ts";
import { serveLocal } from "./http-server.ts";

export interface FakeS3Options {
  /** Buckets that exist; any other answers NoSuchBucket. @default ["meridian-backups"] */
  buckets?: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
  /** The region requests must be signed for. @default "auto" (R2) */
  region?: string;
  /** Largest ListObjectsV2 page, so tests can exercise continuation tokens. @default 1000 */
  maxKeys?: number;
}

export interface StoredObject {
  body: Buffer;
  contentType: string;
  lastModified: Date;
}

/** One request as received, for assertions. */
export interface FakeS3Request {
  method: string;
  /** Path and query as sent. */
  url: string;
  authorization: string | undefined;
  status: number;
}

export interface FakeS3Server {
  /** The endpoint, e.g. `http://127.0.0.1:41234` (path-style: `<url>/<bucket>/<key>`). */
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Objects by bucket, then key. */
  buckets: Map<string, Map<string, StoredObject>>;
  requests: FakeS3Request[];
  close(): Promise<void>;
}

const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
/** AWS refuses requests signed more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60_000;
const AUTH_SHAPE =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/**
 * An in-memory S3-compatible server speaking the S3 REST protocol path-style: PUT object (with
 * `If-None-Match: *`), GET object, DELETE object and ListObjectsV2 (XML, continuation tokens),
 * with S3's XML error answers. Every request must carry a valid Signature Version 4
 * `Authorization` header: its shape, access key, scope and payload hash are checked, and the
 * signature is recomputed from the request as received, so a client that signs one thing and
 * sends another (a query encoded differently, a header changed after signing) is refused with
 * SignatureDoesNotMatch, as AWS, R2 and MinIO would refuse it.
 *
 * @example
 * const s3 = await startFakeS3Server();
 * // S3_ENDPOINT=s3.url S3_BUCKET=meridian-backups S3_ACCESS_KEY_ID=s3.accessKeyId ...
 * await s3.close();
 */
export async function startFakeS3Server(opts: FakeS3Options = {}): Promise<FakeS3Server> {
  const state = {
    accessKeyId: opts.accessKeyId ?? "FAKEACCESSKEY0000001",
    secretAccessKey: opts.secretAccessKey ?? "fake-secret-access-key-for-local-tests",
    region: opts.region ?? "auto",
    buckets: new Map(
      (opts.buckets ?? ["meridian-backups"]).map((name) => [name, new Map<string, StoredObject>()]),
    ),
    requests: [] as FakeS3Request[],
  };
  const maxKeys = opts.maxKeys ?? 1000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: FakeS3Request = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      authorization: req.headers.authorization,
      status: 0,
    };
    state.requests.push(record);
    const answer = (status: number, body = "", headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, body ? { "content-type": "application/xml", ...headers } : headers);
      res.end(body);
    };
    const fail = (status: number, code: string, message: string) =>
      answer(
        status,
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`,
      );

    const body = await readRaw(req);
    const authProblem = checkSignature(req, body, state);
    if (authProblem) return fail(authProblem.status, authProblem.code, authProblem.message);

    const url = new URL(req.url ?? "/", "http://fake-s3.invalid");
    const [, bucketName = "", ...rest] = url.pathname.split("/");
    const bucket = state.buckets.get(decodeURIComponent(bucketName));
    if (!bucket) return fail(404, "NoSuchBucket", "The specified bucket does not exist");
    const key = rest.map(decodeURIComponent).join("/");

    if (!key) {
      if (req.method !== "GET" || url.searchParams.get("list-type") !== "2") {
        return fail(501, "NotImplemented", "Only ListObjectsV2 is implemented on a bucket");
      }
      return answer(200, listObjectsV2(bucketName, bucket, url.searchParams, maxKeys));
    }
    switch (req.method) {
      case "PUT": {
        if (req.headers["if-none-match"] === "*" && bucket.has(key)) {
          return fail(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
          );
        }
        bucket.set(key, {
          body,
          contentType: req.headers["content-type"] ?? "application/octet-stream",
          lastModified: new Date(),
        });
        return answer(200, "", { etag: `"${md5(body)}"` });
      }
      case "GET": {
        const object = bucket.get(key);
        if (!object) return fail(404, "NoSuchKey", "The specified key does not exist.");
        record.status = 200;
        res.writeHead(200, {
          "content-type": object.contentType,
          "content-length": String(object.body.length),
          etag: `"${md5(object.body)}"`,
          "last-modified": object.lastModified.toUTCString(),
        });
        res.end(object.body);
        return;
      }
      case "DELETE":
        bucket.delete(key);
        return answer(204);
      default:
        return fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    }
  }

  const server = await serveLocal(handle, (res, message) => {
    res.writeHead(500, { "content-type": "application/xml" });
    res.end(`<Error><Code>InternalError</Code><Message>${escapeXml(message)}</Message></Error>`);
  });
  return { ...server, ...state };
}

interface AuthState {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

function checkSignature(
  req: IncomingMessage,
  body: Buffer,
  state: AuthState,
): { status: number; code: string; message: string } | undefined {
  const authorization = req.headers.authorization;
  if (!authorization) return { status: 403, code: "AccessDenied", message: "Access Denied" };
  const match = AUTH_SHAPE.exec(authorization);
  if (!match) {
    return {
      status: 400,
      code: "AuthorizationHeaderMalformed",
      message: "The authorization header is malformed",
    };
  }
  const [, accessKeyId, day, region, signedHeaders = ""] = match;
  if (accessKeyId !== state.accessKeyId) {
    return {
      status: 403,
      code: "InvalidAccessKeyId",
      message: "The access key Id you provided does not exist",
    };
  }
  if (region !== state.region) {
    return { status: 400, code: "AuthorizationHeaderMalformed", message: `the region '${region}' is wrong` };
  }
  const amzDate = header(req, "x-amz-date");
  const payloadHash = header(req, "x-amz-content-sha256");
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day || !payloadHash) {
    return {
      status: 403,
      code: "AccessDenied",
      message: "x-amz-date and x-amz-content-sha256 must be sent and signed",
    };
  }
  const signed = signedHeaders.split(";");
  for (const required of ["host", "x-amz-date", "x-amz-content-sha256"]) {
    if (!signed.includes(required)) {
      return { status: 403, code: "AccessDenied", message: `${required} must be signed` };
    }
  }
  const at = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (Math.abs(Date.now() - at.getTime()) > MAX_SKEW_MS) {
    return {
      status: 403,
      code: "RequestTimeTooSkewed",
      message: "The difference between the request time and the current time is too large.",
    };
  }
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== createHash("sha256").update(body).digest("hex")) {
    return {
      status: 400,
      code: "XAmzContentSHA256Mismatch",
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    };
  }
  // Recompute from what arrived: the signed headers' received values and the received URL.
  const headers: Record<string, string> = {};
  for (const name of signed) {
    if (name !== "host" && name !== "x-amz-date" && name !== "x-amz-content-sha256")
      headers[name] = header(req, name);
  }
  const expected = signRequest(
    {
      method: req.method ?? "GET",
      url: new URL(req.url ?? "/", `http://${header(req, "host")}`),
      headers,
      payloadSha256: payloadHash,
    },
    { ...state, region },
    at,
  ).authorization;
  if (expected !== authorization.replace(/, ?/g, ", ")) {
    return {
      status: 403,
      code: "SignatureDoesNotMatch",
      message: "The request signature we calculated does not match the signature you provided.",
    };
  }
  return undefined;
}

function listObjectsV2(
  bucketName: string,
  bucket: Map<string, StoredObject>,
  params: URLSearchParams,
  maxKeysLimit: number,
): string {
  const prefix = params.get("prefix") ?? "";
  const maxKeys = Math.min(maxKeysLimit, Number(params.get("max-keys") ?? maxKeysLimit));
  // The token is opaque to clients; here it is the last key of the previous page.
  const after = params.get("continuation-token")
    ? Buffer.from(params.get("continuation-token") ?? "", "base64url").toString("utf8")
    : "";
  const keys = [...bucket.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const contents = page
    .map((key) => {
      const object = bucket.get(key) as StoredObject;
      return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>&quot;${md5(object.body)}&quot;</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join("");
  const next = truncated
    ? `<NextContinuationToken>${Buffer.from(page.at(-1) ?? "", "utf8").toString("base64url")}</NextContinuationToken>`
    : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}"><Name>${escapeXml(bucketName)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`;
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function md5(body: Buffer): string {
  return createHash("md5").update(body).digest("hex");
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}
