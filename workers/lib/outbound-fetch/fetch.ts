import { ApiError } from "../errors";
import { type Deadline, startDeadline } from "./deadline";
import type { OutboundPolicy } from "./policy";
import { checkOutboundUrl } from "./url";

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 3;

/**
 * `fetch` for tenant-supplied URLs. Checks the URL, follows redirects itself (re-checking every
 * hop, dropping credentials on cross-origin hops), enforces one deadline over the whole exchange
 * and caps the response body. The body is streamed, not buffered, so SSE keeps working; an
 * over-size or late body makes the read (`res.text()` etc.) reject with the ApiError.
 *
 * An over-size response is BAD_GATEWAY, not PAYLOAD_TOO_LARGE: 413 tells *our* caller their
 * request was too big, which it was not; the upstream's answer was unusable, which is what 502 says.
 * A refused redirect is BAD_GATEWAY too: the caller's URL was acceptable, the upstream's answer was not.
 *
 * @throws {ApiError} UNPROCESSABLE when `url` itself is refused (nothing is sent).
 * @throws {ApiError} BAD_GATEWAY on a network error, a refused or excess redirect, or a body over
 *   the limit; GATEWAY_TIMEOUT when the deadline passes. An abort through `init.signal` rejects
 *   with the caller's own reason.
 * @example
 * const res = await outboundFetch(step.url, { method: "POST", body }, { timeoutMs: 5_000 });
 * const text = await res.text(); // may reject with BAD_GATEWAY / GATEWAY_TIMEOUT
 */
export async function outboundFetch(
  url: string,
  init: RequestInit = {},
  policy: OutboundPolicy = {},
): Promise<Response> {
  let target = checkOutboundUrl(url, policy);
  const fetcher = policy.fetcher ?? ((input, requestInit) => fetch(input, requestInit));
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const maxBytes = policy.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const deadline = startDeadline(policy.timeoutMs ?? DEFAULT_TIMEOUT_MS, init.signal ?? undefined);
  const mode = init.redirect ?? "follow";
  const headers = new Headers(init.headers);
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;

  try {
    for (let hop = 0; ; hop++) {
      const host = target.host;
      const res = await deadline.race(
        () =>
          fetcher(target.href, {
            ...init,
            method,
            // A copy per hop: the fetcher must not see (or keep) headers we strip on a later hop.
            headers: new Headers(headers),
            body,
            redirect: "manual",
            signal: deadline.signal,
          }),
        () => `could not reach ${host}`,
      );
      const location = REDIRECT_STATUSES.has(res.status) ? res.headers.get("location") : null;
      if (location === null || mode === "manual") return limitBody(res, maxBytes, deadline);

      await res.body?.cancel().catch(() => undefined);
      if (mode === "error") throw badGateway(`${host} redirected, and redirects were refused`);
      if (hop >= maxRedirects) throw badGateway(`more than ${maxRedirects} redirects`);
      const next = nextHop(location, target, policy);

      // Fetch standard, HTTP-redirect fetch: these hops turn into a GET without a body.
      if (
        (res.status === 303 && method !== "HEAD") ||
        ((res.status === 301 || res.status === 302) && method === "POST")
      ) {
        method = "GET";
        body = null;
        for (const name of BODY_HEADERS) headers.delete(name);
      } else if (body instanceof ReadableStream) {
        throw badGateway(`${host} redirected a streamed request body, which cannot be sent twice`);
      }
      // A webhook's bearer token is for the host the tenant named, not wherever it points us.
      if (next.origin !== target.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
      target = next;
    }
  } catch (err) {
    deadline.release();
    throw err;
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const BODY_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "content-location",
];
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

function nextHop(location: string, from: URL, policy: OutboundPolicy): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw badGateway(`${from.host} redirected to an invalid Location`);
  }
  try {
    return checkOutboundUrl(next.href, policy);
  } catch (err) {
    const detail = err instanceof ApiError ? err.message : "refused";
    throw new ApiError("BAD_GATEWAY", {
      detail: `${from.host} redirected to a refused URL: ${detail}`,
      cause: err,
    });
  }
}

function limitBody(res: Response, maxBytes: number, deadline: Deadline): Response {
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    res.body?.cancel().catch(() => undefined);
    throw tooLarge(maxBytes);
  }
  if (!res.body || NULL_BODY_STATUSES.has(res.status)) {
    deadline.release();
    return res;
  }
  const reader = res.body.getReader();
  let received = 0;
  const limited = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await deadline.race(
          () => reader.read(),
          () => "the upstream connection failed mid-body",
        );
        if (chunk.done) {
          deadline.release();
          controller.close();
          return;
        }
        received += chunk.value.byteLength;
        if (received > maxBytes) throw tooLarge(maxBytes);
        controller.enqueue(chunk.value);
      } catch (err) {
        deadline.release();
        reader.cancel(err).catch(() => undefined);
        controller.error(err);
      }
    },
    cancel(reason) {
      deadline.release();
      return reader.cancel(reason);
    },
  });
  return new Response(limited, { status: res.status, statusText: res.statusText, headers: res.headers });
}

function badGateway(detail: string): ApiError {
  return new ApiError("BAD_GATEWAY", { detail });
}

function tooLarge(maxBytes: number): ApiError {
  return badGateway(`the upstream response is larger than ${maxBytes} bytes`);
}
