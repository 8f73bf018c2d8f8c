import { EmbeddingError } from "./types";

/** The slice of `fetch` the HTTP providers use; tests and callers may pass their own. */
export type EmbeddingFetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * An embedding call that failed at the HTTP level. `retryAfterMs` is the wait the vendor asked
 * for (429/503 `Retry-After`), which `embedInBatches` honours when short and the queue when long.
 */
export class EmbeddingHttpError extends EmbeddingError {
  constructor(
    message: string,
    retryable: boolean,
    /** The vendor's status, or undefined when no response arrived (network error, timeout). */
    readonly status: number | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message, retryable);
    this.name = "EmbeddingHttpError";
  }
}

export interface EmbeddingPost {
  /** Human name of the vendor, for error messages ("Voyage AI"). */
  vendor: string;
  url: string;
  /** Sent as `Authorization: Bearer`, and scrubbed from any error text. */
  token: string;
  body: unknown;
  fetchImpl: EmbeddingFetch;
  /**
   * Time for the whole exchange, reading the body included. A large batch can take a while
   * on a busy vendor; past this, the attempt counts as a retryable failure.
   * @default 30_000
   */
  timeoutMs?: number;
}

/** Rate limit, timeout, lock conflict; every 5xx as well. Anything else is the request's fault. */
const RETRYABLE_STATUSES = new Set([408, 409, 425, 429]);
/** Enough of the vendor's explanation to act on, without copying a whole HTML error page. */
const MAX_VENDOR_TEXT = 300;

/**
 * POSTs `body` as JSON to an embedding vendor and returns the parsed JSON answer. The URL is
 * operator configuration (see `VOYAGE_BASE_URL` and friends in workers/env.ts), never a tenant's,
 * which is why this is a plain `fetch` and not `outboundFetch`. One error mapping for every
 * vendor: no answer, 408/409/425/429 and 5xx are retryable; other statuses are not, and their
 * message carries the vendor's own error text (truncated, the token scrubbed out).
 *
 * @throws EmbeddingHttpError on a network error, a timeout, a non-2xx status or a body that is not JSON.
 * @example
 * const json = await postEmbeddingJson({
 *   vendor: "Voyage AI",
 *   url: "https://api.voyageai.com/v1/embeddings",
 *   token: settings.apiKey,
 *   body: { input: ["hello"], model: "voyage-3.5" },
 *   fetchImpl: fetch,
 * });
 */
export async function postEmbeddingJson(post: EmbeddingPost): Promise<unknown> {
  const { vendor, url, token, body, fetchImpl, timeoutMs = 30_000 } = post;
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
    text = await response.text();
  } catch (error) {
    const why = signal.aborted ? `no answer within ${timeoutMs} ms` : describe(error);
    throw new EmbeddingHttpError(
      `${vendor} embeddings request failed: ${scrub(why, token)}`,
      true,
      undefined,
      undefined,
    );
  }
  if (!response.ok) {
    const status = response.status;
    const retryable = RETRYABLE_STATUSES.has(status) || status >= 500;
    // Scrubbed before truncating, so a cut can't leave part of the token behind.
    const detail = vendorErrorText(scrub(text, token));
    throw new EmbeddingHttpError(
      `${vendor} embeddings request failed with ${status}${detail ? `: ${detail}` : ""}`,
      retryable,
      status,
      retryable ? retryAfterMs(response.headers) : undefined,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A 200 that is not JSON is a base URL pointing at something else (a login page, a proxy's
    // error page): the next attempt would get the same.
    throw new EmbeddingHttpError(
      `${vendor} embeddings answered ${response.status} with a body that is not JSON: ${truncate(scrub(text, token))}`,
      false,
      response.status,
      undefined,
    );
  }
}

/**
 * The human part of a vendor's error body: OpenAI's `error.message` (or Ollama's `error`
 * string), Voyage's `detail`, Cloudflare's `errors[].message`; else the raw text, truncated.
 *
 * @example
 * vendorErrorText('{"detail":"Provided API key is invalid."}'); // "Provided API key is invalid."
 */
export function vendorErrorText(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return truncate(body.trim());
  }
  const found = messageIn(parsed);
  return truncate(found ?? body.trim());
}

function messageIn(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    const parts = value.map(messageIn).filter((m): m is string => Boolean(m));
    return parts.length > 0 ? parts.join("; ") : undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  for (const key of ["error", "detail", "errors", "message", "msg"]) {
    const found = messageIn(record[key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * The wait a vendor asked for, from `retry-after-ms` or `retry-after` (seconds or an HTTP date).
 * Undefined when absent, unreadable or not in the future.
 */
function retryAfterMs(headers: Headers): number | undefined {
  const millis = Number(headers.get("retry-after-ms"));
  if (millis > 0) return Math.ceil(millis);
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isNaN(seconds) ? Date.parse(value) - Date.now() : seconds * 1000;
  return ms > 0 ? Math.ceil(ms) : undefined;
}

/** Some gateways echo the credential they refused; it must not reach a document's failure reason. */
function scrub(text: string, token: string): string {
  return token ? text.split(token).join("[redacted]") : text;
}

function truncate(text: string): string {
  return text.length > MAX_VENDOR_TEXT ? `${text.slice(0, MAX_VENDOR_TEXT)}…` : text;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Joins a configured base URL and a path, whether or not the base ends with a slash.
 *
 * @example
 * joinUrl("https://api.voyageai.com/", "/v1/embeddings"); // "https://api.voyageai.com/v1/embeddings"
 */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}${path}`;
}
