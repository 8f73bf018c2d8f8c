import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from "@anthropic-ai/sdk";

export interface RetryPolicy {
  /** Calls in all, the first one included. */
  maxAttempts: number;
  /** Backoff ceiling for the first retry; it doubles for each retry after that. */
  baseDelayMs: number;
  /** Highest ceiling the backoff can reach. Waits the provider asks for are not capped by it. */
  maxDelayMs: number;
}

/** Model calls from the run engine: up to three retries, waiting at most 20 s between attempts. */
export const PROVIDER_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20_000 };

/** Request timeout, lock timeout, rate limit. Every 5xx (529 = overloaded) is retried as well. */
const RETRYABLE_STATUSES = new Set([408, 409, 429]);
/** Error types the API sends as an `event: error` after a stream has started with 200. */
const RETRYABLE_STREAM_ERRORS = new Set(["overloaded_error", "api_error", "rate_limit_error"]);
/** Longest wait one `setTimeout` can hold; it fires at once for anything longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Whether another attempt could succeed. A mid-stream `event: error` reaches us as an `APIError`
 * without a status, its type taken from the event's body. A connection timeout is not retried:
 * it means the time the caller gave the request ran out, and another attempt would spend more.
 */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof APIError) || error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionTimeoutError) return false;
  if (error instanceof APIConnectionError) return true;
  if (error.status !== undefined) {
    return RETRYABLE_STATUSES.has(error.status) || (error.status >= 500 && error.status <= 599);
  }
  const body = error.error as { error?: { type?: unknown } } | undefined;
  const type = error.type ?? body?.error?.type;
  return typeof type === "string" && RETRYABLE_STREAM_ERRORS.has(type);
}

/**
 * The wait the provider asked for: `retry-after-ms`, else `retry-after` in seconds or as an HTTP
 * date. Undefined when absent, unreadable, not in the future, or too long for a timer; the SDK
 * reads these headers the same way.
 */
function requestedDelayMs(headers: Headers | undefined): number | undefined {
  const usable = (ms: number) => (ms > 0 && ms <= MAX_TIMER_MS ? Math.ceil(ms) : undefined);
  const millis = headers?.get("retry-after-ms");
  const fromMillis = millis ? usable(Number(millis)) : undefined;
  if (fromMillis !== undefined) return fromMillis;
  const value = headers?.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  return usable(Number.isNaN(seconds) ? Date.parse(value) - Date.now() : seconds * 1000);
}

/**
 * Whether and how long to wait before the next attempt, or null to give up. `attempt` is the
 * 1-based number of the attempt that just failed with `error`. Without a wait requested by the
 * provider, the delay is exponential backoff with full jitter, so clients that failed together
 * don't come back together.
 *
 * @example
 * retryDelayMs(new RateLimitError(429, body, undefined, new Headers({ "retry-after": "2" })), 1); // 2000
 * retryDelayMs(new BadRequestError(400, body, undefined, new Headers()), 1); // null
 */
export function retryDelayMs(
  error: unknown,
  attempt: number,
  policy: RetryPolicy = PROVIDER_RETRY_POLICY,
  random: () => number = Math.random,
): number | null {
  if (attempt >= policy.maxAttempts || !isRetryable(error)) return null;
  const requested = requestedDelayMs((error as APIError).headers);
  if (requested !== undefined) return requested;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export interface RetryOptions {
  /** Epoch ms. No wait may end after it; the last error is thrown instead. */
  deadline: number;
  /** Aborts a wait between attempts. Pass it to the SDK call too, to abort the attempt itself. */
  signal?: AbortSignal;
  /** @default PROVIDER_RETRY_POLICY */
  policy?: RetryPolicy;
  /** Told about each failed attempt (1-based) just before waiting `delayMs` to retry it. */
  onRetry?: (info: { attempt: number; delayMs: number; status: number | undefined; message: string }) => void;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  const reason = () => signal?.reason ?? new DOMException("The operation was aborted.", "AbortError");
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(reason());
    const onAbort = () => {
      clearTimeout(timer);
      reject(reason());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Calls `call(attempt)` (attempt starts at 1) until it resolves or a non-retryable error / the
 * deadline / the signal stops it. The SDK client runs with `maxRetries: 0` so that retries happen
 * here, where the run's time limit is known. The first attempt always runs; a retry whose wait
 * would end after `deadline` does not, and the error that asked for it is thrown. A stream that
 * fails part-way is retried from the start, so `call` must build a fresh request each time.
 *
 * @example
 * const message = await withProviderRetries(
 *   () => client.messages.create(params, { signal }),
 *   { deadline: startedAt + RUN_TIME_LIMIT_MS, signal, onRetry: (info) => logger.warn("model retry", info) },
 * );
 */
export async function withProviderRetries<T>(
  call: (attempt: number) => Promise<T>,
  opts: RetryOptions,
): Promise<T> {
  const { deadline, signal, policy = PROVIDER_RETRY_POLICY, onRetry, random } = opts;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await call(attempt);
    } catch (error) {
      const delayMs = retryDelayMs(error, attempt, policy, random);
      if (delayMs === null || Date.now() + delayMs > deadline) throw error;
      onRetry?.({
        attempt,
        delayMs,
        status: error instanceof APIError ? error.status : undefined,
        message: error instanceof Error ? error.message : String(error),
      });
      await sleep(delayMs, signal);
    }
  }
}
