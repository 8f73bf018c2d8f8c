import { ApiError } from "./errors";

/**
 * The one way to call a URL a tenant gave us (MCP servers, workflow HTTP steps, webhooks).
 *
 * What this can and cannot stop: it refuses URLs whose *literal* host is a private, loopback,
 * link-local, metadata or otherwise non-public address, in every spelling the URL parser accepts,
 * and re-checks every redirect hop. It cannot see what a hostname resolves to: a Worker has no
 * DNS API and `fetch` resolves names itself, so `evil.example` with an A record of 127.0.0.1
 * (or a DNS-rebinding name that flips to 10.0.0.1 after a check) passes here. That gap is
 * acceptable only because Cloudflare's egress runs on Cloudflare's network, not inside ours:
 * there is no private network of ours behind it to reach. If Meridian ever runs where egress
 * can reach internal hosts (a container, a VPC, a Tunnel binding), this check is NOT enough and
 * the egress itself must be filtered.
 */

/** How an outbound call is allowed to behave. Built from config by the caller. */
export interface OutboundPolicy {
  /**
   * Let private, loopback and internal hosts through (scheme, credential and port rules still
   * apply). Only for local development, where MCP servers and webhooks run on localhost; never
   * set it from anything a tenant controls.
   * @default false
   */
  allowPrivate?: boolean;
  /**
   * Deadline for the whole exchange, redirects and reading the body included, so an upstream
   * that dribbles bytes cannot hold a request open. Long-lived streams (SSE) need a larger value.
   * @default 10_000
   */
  timeoutMs?: number;
  /**
   * Largest response body read, counted after content decoding so a compressed bomb is caught.
   * @default 5 MiB
   */
  maxResponseBytes?: number;
  /** @default 3 */
  maxRedirects?: number;
  /**
   * Ports a URL may name (the scheme's default port counts as named). Unset allows every port:
   * the address checks are the security boundary; which port a public host serves on is the
   * tenant's business.
   * @default undefined (any port)
   */
  allowedPorts?: number[];
  /**
   * The fetch to call; tests pass a fake because the test runtime has no internet.
   * @default globalThis.fetch
   */
  fetcher?: FetchImpl;
}

/** The slice of `fetch` outboundFetch uses. */
export type FetchImpl = (url: string, init: RequestInit) => Promise<Response>;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 3;

// Special-purpose ranges from the IANA IPv4 registry that are not globally reachable, or that
// lead to hosts of ours or of the cloud we run on rather than of the tenant.
const V4_BLOCKS = [
  ["0.0.0.0/8", "a 'this network'"],
  ["10.0.0.0/8", "a private"],
  ["100.64.0.0/10", "a carrier-grade NAT"],
  ["127.0.0.0/8", "a loopback"],
  ["169.254.0.0/16", "a link-local (cloud metadata)"],
  ["172.16.0.0/12", "a private"],
  ["192.0.0.0/24", "an IETF protocol-assignment"],
  ["192.0.2.0/24", "a documentation"],
  ["192.88.99.0/24", "a 6to4 relay anycast"],
  ["192.168.0.0/16", "a private"],
  ["198.18.0.0/15", "a benchmarking"],
  ["198.51.100.0/24", "a documentation"],
  ["203.0.113.0/24", "a documentation"],
  ["224.0.0.0/4", "a multicast"],
  ["240.0.0.0/4", "a reserved or broadcast"],
].map(([cidr, reason]) => {
  const [base = "", bits = "0"] = (cidr as string).split("/");
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return { base: parseIpv4(base) as number, mask, reason: reason as string };
});

// Names that only mean something inside a private network or a cloud instance. Public DNS never
// answers for them, but a resolver on an internal network would, so they are refused by name.
const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "instance-data",
  "instance-data.ec2.internal",
]);
const INTERNAL_SUFFIXES = ["local", "internal", "localdomain", "home.arpa", "lan"];

/**
 * Why a host may not be called, or null when it may. `host` is what `URL.hostname` returns
 * (IPv6 in brackets). Checks the literal spelling too, not just the normalised one, so a URL
 * parser that leaves `0x7f.1` or `2130706433` alone still cannot smuggle loopback past it.
 *
 * @throws nothing: a malformed host comes back as a reason, not an exception.
 * @example
 * hostRefusal("0x7f.1"); // "127.0.0.1 is a loopback address"
 * hostRefusal("example.com"); // null
 */
export function hostRefusal(host: string): string | null {
  const lower = host.toLowerCase();
  if (lower.startsWith("[") && lower.endsWith("]")) {
    const inner = lower.slice(1, -1);
    if (inner.includes("%")) return `${host} carries an IPv6 zone identifier`;
    const bytes = parseIpv6(inner);
    if (!bytes) return `${host} is not a valid IPv6 address`;
    const reason = v6Refusal(bytes);
    return reason ? `${host} is ${reason}` : null;
  }
  // A WHATWG parser has already decoded these; any that survive mean a parser that did not.
  if (lower.includes("%")) return `${host} is a percent-encoded host`;
  const name = lower.replace(/\.+$/, "");
  if (name === "") return "the URL has no host";
  if (endsInNumber(name)) {
    const v4 = parseIpv4(name);
    if (v4 === null) return `${host} is neither a valid IPv4 address nor a hostname`;
    const reason = v4Refusal(v4);
    return reason ? `${formatIpv4(v4)} is ${reason}` : null;
  }
  if (name === "localhost" || name.endsWith(".localhost")) return `${name} is a loopback hostname`;
  if (METADATA_NAMES.has(name)) return `${name} is a cloud metadata hostname`;
  for (const suffix of INTERNAL_SUFFIXES) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return `${name} is an internal hostname (.${suffix})`;
  }
  // A dotless name resolves only through a local search domain, i.e. inside someone's network.
  if (!name.includes(".")) return `${name} is a single-label hostname`;
  return null;
}

/**
 * Parses a tenant-supplied URL and refuses anything outboundFetch must not call: schemes other
 * than http(s), credentials in the URL, non-public hosts (see `hostRefusal`) and ports outside
 * `policy.allowedPorts`.
 *
 * @throws {ApiError} UNPROCESSABLE with a detail naming the rule that refused the URL.
 * @example
 * const url = checkOutboundUrl(body.serverUrl); // at write time, so a bad URL is a 422 on save
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused("it is not a valid absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw refused(`only http and https are allowed, not ${url.protocol.slice(0, -1)}`);
  }
  // Never echo the credentials: the detail ends up in responses and logs.
  if (url.username !== "" || url.password !== "") {
    throw refused("it carries credentials (user:pass@); send them in a header instead");
  }
  if (policy.allowedPorts) {
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    if (!policy.allowedPorts.includes(port)) throw refused(`port ${port} is not allowed`);
  }
  if (!policy.allowPrivate) {
    const reason = hostRefusal(url.hostname);
    if (reason) throw refused(reason);
  }
  return url;
}

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

interface Deadline {
  signal: AbortSignal;
  /** Settles like `work()`, or rejects when the deadline passes, the caller aborts, or `work` fails. */
  race<T>(work: () => Promise<T>, failure: () => string): Promise<T>;
  release(): void;
}

function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): Deadline {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Raced against every await as well as passed as the signal, so a fetch (or a fake) that
  // ignores its signal still cannot outlive the deadline.
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ApiError("GATEWAY_TIMEOUT", {
        detail: `the upstream did not finish within ${timeoutMs} ms`,
      });
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  expired.catch(() => undefined);
  const signal = callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal;
  return {
    signal,
    async race(work, failure) {
      try {
        return await Promise.race([work(), expired]);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (callerSignal?.aborted) throw callerSignal.reason;
        if (controller.signal.aborted) throw controller.signal.reason;
        const why = err instanceof Error ? err.message : String(err);
        throw new ApiError("BAD_GATEWAY", { detail: `${failure()}: ${why}`, cause: err });
      }
    },
    release() {
      clearTimeout(timer);
    },
  };
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

function refused(why: string): ApiError {
  return new ApiError("UNPROCESSABLE", { detail: `The URL was refused: ${why}.` });
}

function badGateway(detail: string): ApiError {
  return new ApiError("BAD_GATEWAY", { detail });
}

function tooLarge(maxBytes: number): ApiError {
  return badGateway(`the upstream response is larger than ${maxBytes} bytes`);
}

function v4Refusal(addr: number): string | null {
  for (const block of V4_BLOCKS) {
    if ((addr & block.mask) >>> 0 === block.base) return `${block.reason} address`;
  }
  return null;
}

function v6Refusal(b: Uint8Array): string | null {
  const word = (i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  const zeroUpTo = (end: number) => b.subarray(0, end).every((x) => x === 0);
  const embedded = (at: number) =>
    (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;

  if (zeroUpTo(16)) return "the unspecified address";
  if (zeroUpTo(15) && b[15] === 1) return "a loopback address";
  // A v4 address in v6 clothing is spelt as v4 by anyone with a legitimate reason to call it.
  if (zeroUpTo(10) && word(10) === 0xffff) return "an IPv4-mapped address";
  if (zeroUpTo(12)) return "an IPv4-compatible address";
  if (word(0) === 0x64 && word(2) === 0xff9b) {
    if (b.subarray(4, 12).every((x) => x === 0)) {
      const inner = v4Refusal(embedded(12));
      return inner ? `a NAT64 address embedding ${inner}` : null;
    }
    return "a local-use NAT64 address";
  }
  // Only 2000::/3 holds global unicast; everything else (ULA fc00::/7, link-local fe80::/10,
  // site-local fec0::/10, multicast ff00::/8, discard 100::/64, SRv6 5f00::/16) is refused.
  if (((b[0] ?? 0) & 0xe0) !== 0x20) {
    if (((b[0] ?? 0) & 0xfe) === 0xfc) return "a unique-local address";
    if (b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80) return "a link-local address";
    if (b[0] === 0xff) return "a multicast address";
    return "an address outside global unicast (2000::/3)";
  }
  if (word(0) === 0x2002) {
    const inner = v4Refusal(embedded(2));
    return inner ? `a 6to4 address embedding ${inner}` : null;
  }
  if (word(0) === 0x2001 && word(2) === 0x0db8) return "a documentation address";
  if (word(0) === 0x2001 && word(2) < 0x200)
    return "an IETF protocol assignment (Teredo, benchmarking, ORCHID)";
  if (word(0) === 0x3fff && (word(2) & 0xf000) === 0) return "a documentation address";
  return null;
}

/** WHATWG "ends in a number": such a host is parsed as IPv4 or is invalid. */
function endsInNumber(name: string): boolean {
  const last = name.split(".").pop() ?? "";
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last);
}

/** IPv4 as WHATWG parses it: 1-4 parts, each decimal, 0x-hex or 0-octal; the last fills the rest. */
function parseIpv4(name: string): number | null {
  const parts = name.split(".");
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    numbers.push(value);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return null;
  return numbers.reduce((acc, n, i) => acc + n * 256 ** (3 - i), last);
}

function formatIpv4(addr: number): string {
  return [24, 16, 8, 0].map((shift) => (addr >>> shift) & 0xff).join(".");
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function parseGroups(part: string, mayEndInIpv4: boolean): number[] | null {
  if (part === "") return [];
  const groups = part.split(":");
  const out: number[] = [];
  for (const [i, group] of groups.entries()) {
    if (mayEndInIpv4 && i === groups.length - 1 && group.includes(".")) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(group)) return null;
      const v4 = parseIpv4(group.replace(/(^|\.)0+(\d)/g, "$1$2"));
      if (v4 === null) return null;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-f]{1,4}$/.test(group)) {
      out.push(Number.parseInt(group, 16));
    } else {
      return null;
    }
  }
  return out;
}
