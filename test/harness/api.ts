import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../workers/index";

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  /** Bearer credential: access token, API key or platform admin token. */
  token?: string;
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  /** Sent as is (for malformed-input tests). */
  raw?: BodyInit;
  headers?: Record<string, string>;
}

/**
 * Calls the real Worker (its default export, in this isolate) and parses the answer. The one
 * harness every route test uses.
 *
 * @example
 * const res = await api.get<AgentResponse>(`/v1/agents/${id}`, { token });
 */
async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers = new Headers(opts.headers);
  if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
  // A client address per call, as Cloudflare would send it: tests must not share one per-IP
  // rate-limit bucket. Tests of that limit pass the header themselves.
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomIp());
  let body: BodyInit | undefined = opts.raw;
  if (body === undefined && opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await exports.default.fetch(
    new Request(`https://api.meridian.test${path}`, { method, headers, body }),
  );
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  // JSON and problem+json are parsed; anything else (NDJSON, CSV, event streams) stays text.
  const parsed = text && /^application\/([\w.-]+\+)?json\b/.test(type) ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/**
 * A client address of its own, so a test never shares another's per-IP rate-limit bucket: 64
 * random bits in IPv6's documentation prefix. (16 bits of IPv4 were too few: a suite sends
 * thousands of requests a minute, and one that drew a test's address spent its 120-a-minute budget.)
 */
export function randomIp(): string {
  const words = [...crypto.getRandomValues(new Uint16Array(4))].map((w) => w.toString(16));
  return `2001:db8:${words.join(":")}::1`;
}

export const api = {
  get: <T = unknown>(path: string, opts?: CallOptions) => call<T>("GET", path, opts),
  post: <T = unknown>(path: string, opts?: CallOptions) => call<T>("POST", path, opts),
  put: <T = unknown>(path: string, opts?: CallOptions) => call<T>("PUT", path, opts),
  patch: <T = unknown>(path: string, opts?: CallOptions) => call<T>("PATCH", path, opts),
  delete: <T = unknown>(path: string, opts?: CallOptions) => call<T>("DELETE", path, opts),
  call,
};

/** The problem document every error response carries. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  errors?: { path: string; message: string }[];
}

/**
 * Calls the Worker with some bindings of the test's own (Redis at a dead port, a metrics
 * namespace) and waits for its background work (`waitUntil`) before answering.
 *
 * @example
 * const res = await fetchWithBindings("/health/ready", {}, { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" });
 */
export async function fetchWithBindings(
  path: string,
  init: RequestInit,
  overrides: Partial<Record<keyof typeof env, string>>,
): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`https://api.meridian.test${path}`, init) as Request<
    unknown,
    IncomingRequestCfProperties
  >;
  const res = await worker.fetch(request, { ...env, ...overrides } as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
