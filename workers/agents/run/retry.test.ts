import { env } from "cloudflare:workers";
import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  RateLimitError,
} from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PROVIDER_RETRY_POLICY, type RetryOptions, retryDelayMs, withProviderRetries } from "./retry";

const { ANTHROPIC_BASE_URL: MODEL_URL, ANTHROPIC_API_KEY: MODEL_KEY } = env as unknown as {
  ANTHROPIC_BASE_URL: string;
  ANTHROPIC_API_KEY: string;
};

const body = (type: string) => ({ type: "error", error: { type, message: type } });

/** The error the SDK throws for an HTTP error answer, as `APIError.generate` builds it. */
const httpError = (status: number, headers: Record<string, string> = {}) =>
  APIError.generate(status, body("api_error"), undefined, new Headers(headers));

/** The error the SDK's stream throws for an `event: error` after a 200 (core/streaming.ts). */
const streamError = (type: string) =>
  new APIError(undefined, body(type), undefined, new Headers(), type as APIError["type"]);

const rateLimited = (headers: Record<string, string>) =>
  new RateLimitError(429, body("rate_limit_error"), undefined, new Headers(headers));

const overloaded = () => new OverloadedError(529, body("overloaded_error"), undefined, new Headers());

/** Fails with `errors` in turn, then answers `"done"`. */
function failing(...errors: unknown[]) {
  const calls: number[] = [];
  const call = async (attempt: number) => {
    calls.push(attempt);
    const error = errors[calls.length - 1];
    if (error !== undefined) throw error;
    return "done";
  };
  return { call, calls };
}

const soon = (extra: Partial<RetryOptions> = {}): RetryOptions => ({
  deadline: Date.now() + 10_000,
  random: () => 0,
  ...extra,
});

describe("retryDelayMs", () => {
  it("retries 408, 409, 429 and every 5xx, 529 overloaded included", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529, 599]) {
      expect(
        retryDelayMs(httpError(status), 1, PROVIDER_RETRY_POLICY, () => 0),
        String(status),
      ).toBe(0);
    }
    expect(httpError(529)).toBeInstanceOf(OverloadedError);
    expect(httpError(500)).toBeInstanceOf(InternalServerError);
  });

  it("does not retry 400, 401, 403, 404, 413 or 422", () => {
    for (const status of [400, 401, 403, 404, 413, 422]) {
      expect(retryDelayMs(httpError(status), 1), String(status)).toBeNull();
    }
  });

  it("retries a dropped connection, but not a timeout, an abort or an error from elsewhere", () => {
    const dropped = new APIConnectionError({ message: "socket hang up" });
    expect(retryDelayMs(dropped, 1, PROVIDER_RETRY_POLICY, () => 0)).toBe(0);
    expect(retryDelayMs(new APIConnectionTimeoutError(), 1)).toBeNull();
    expect(retryDelayMs(new APIUserAbortError(), 1)).toBeNull();
    expect(retryDelayMs(new DOMException("aborted", "AbortError"), 1)).toBeNull();
    expect(retryDelayMs(new TypeError("boom"), 1)).toBeNull();
    expect(retryDelayMs("overloaded", 1)).toBeNull();
  });

  it("retries an overloaded, api or rate-limit `event: error` in a stream, and no other", () => {
    for (const type of ["overloaded_error", "api_error", "rate_limit_error"]) {
      expect(
        retryDelayMs(streamError(type), 1, PROVIDER_RETRY_POLICY, () => 0),
        type,
      ).toBe(0);
    }
    expect(retryDelayMs(streamError("invalid_request_error"), 1)).toBeNull();
    // SDKs before `APIError.type` existed leave the type in the event's body only.
    const untyped = new APIError(undefined, body("overloaded_error"), undefined, new Headers());
    expect(retryDelayMs(untyped, 1, PROVIDER_RETRY_POLICY, () => 0)).toBe(0);
  });

  it("waits the seconds retry-after asks for", () => {
    expect(retryDelayMs(rateLimited({ "retry-after": "2" }), 1)).toBe(2000);
    expect(retryDelayMs(rateLimited({ "retry-after": "0.25" }), 1)).toBe(250);
  });

  it("prefers retry-after-ms to retry-after", () => {
    expect(retryDelayMs(rateLimited({ "retry-after-ms": "1500", "retry-after": "9" }), 1)).toBe(1500);
  });

  it("reads retry-after as an HTTP date", () => {
    const at = new Date(Date.now() + 5_000).toUTCString();
    const delay = retryDelayMs(rateLimited({ "retry-after": at }), 1);
    // HTTP dates have whole seconds, so up to one second of the five may be lost.
    expect(delay).toBeGreaterThan(3_900);
    expect(delay).toBeLessThanOrEqual(5_000);
  });

  it("backs off when retry-after is unreadable, zero or in the past", () => {
    const past = new Date(Date.now() - 60_000).toUTCString();
    const unusable: Record<string, string>[] = [
      { "retry-after": "soon" },
      { "retry-after-ms": "0" },
      { "retry-after": past },
    ];
    for (const headers of unusable) {
      expect(retryDelayMs(rateLimited(headers), 1, PROVIDER_RETRY_POLICY, () => 0.5)).toBe(250);
    }
  });

  it("backs off exponentially with full jitter, up to maxDelayMs", () => {
    const policy = { maxAttempts: 20, baseDelayMs: 500, maxDelayMs: 20_000 };
    const high = () => 0.999_999;
    expect(retryDelayMs(overloaded(), 1, policy, () => 0)).toBe(0);
    expect(retryDelayMs(overloaded(), 1, policy, high)).toBe(499);
    expect(retryDelayMs(overloaded(), 2, policy, high)).toBe(999);
    expect(retryDelayMs(overloaded(), 3, policy, () => 0.5)).toBe(1000);
    expect(retryDelayMs(overloaded(), 7, policy, high)).toBe(19_999);
    expect(retryDelayMs(overloaded(), 15, policy, high)).toBe(19_999);
    for (let i = 0; i < 100; i++) {
      const delay = retryDelayMs(overloaded(), 2, policy) ?? -1;
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(1000);
    }
  });

  it("gives up once maxAttempts attempts have failed", () => {
    const policy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 };
    expect(retryDelayMs(overloaded(), 2, policy)).not.toBeNull();
    expect(retryDelayMs(overloaded(), 3, policy)).toBeNull();
    expect(retryDelayMs(rateLimited({ "retry-after": "1" }), 3, policy)).toBeNull();
  });
});

describe("withProviderRetries", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("retries until the call succeeds, telling onRetry about each failed attempt", async () => {
    const { call, calls } = failing(overloaded(), new APIConnectionError({ message: "reset" }));
    const onRetry = vi.fn();
    await expect(withProviderRetries(call, soon({ onRetry }))).resolves.toBe("done");
    expect(calls).toEqual([1, 2, 3]);
    expect(onRetry.mock.calls).toEqual([
      [{ attempt: 1, delayMs: 0, status: 529, message: expect.stringContaining("overloaded") }],
      [{ attempt: 2, delayMs: 0, status: undefined, message: "reset" }],
    ]);
  });

  it("throws the last error after maxAttempts attempts", async () => {
    const errors = [overloaded(), overloaded(), overloaded(), overloaded()];
    const { call, calls } = failing(...errors);
    const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 };
    await expect(withProviderRetries(call, soon({ policy }))).rejects.toBe(errors[2]);
    expect(calls).toEqual([1, 2, 3]);
  });

  it("throws a non-retryable error at once", async () => {
    const invalid = new BadRequestError(400, body("invalid_request_error"), undefined, new Headers());
    const { call, calls } = failing(invalid);
    const onRetry = vi.fn();
    await expect(withProviderRetries(call, soon({ onRetry }))).rejects.toBe(invalid);
    expect(calls).toEqual([1]);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it("throws the error instead of waiting past the deadline", async () => {
    const limited = rateLimited({ "retry-after": "5" });
    const { call, calls } = failing(limited);
    const onRetry = vi.fn();
    const started = Date.now();
    await expect(withProviderRetries(call, { deadline: started + 1_000, onRetry })).rejects.toBe(limited);
    expect(Date.now() - started).toBeLessThan(500);
    expect(calls).toEqual([1]);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it("rejects promptly with the signal's reason when aborted while waiting, and clears the timer", async () => {
    const clearTimeout = vi.spyOn(globalThis, "clearTimeout");
    const controller = new AbortController();
    const cancelled = new Error("run cancelled");
    const { call, calls } = failing(overloaded());
    const policy = { maxAttempts: 4, baseDelayMs: 60_000, maxDelayMs: 60_000 };
    const started = Date.now();
    const run = withProviderRetries(call, {
      ...soon({ policy, random: () => 0.5, signal: controller.signal, deadline: started + 120_000 }),
      onRetry: () => setTimeout(() => controller.abort(cancelled), 10),
    });
    await expect(run).rejects.toBe(cancelled);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls).toEqual([1]);
    expect(clearTimeout).toHaveBeenCalled();
  });

  it("makes no call once the signal has aborted", async () => {
    const { call, calls } = failing();
    const signal = AbortSignal.abort();
    await expect(withProviderRetries(call, soon({ signal }))).rejects.toMatchObject({ name: "AbortError" });
    expect(calls).toEqual([]);
  });
});

describe("withProviderRetries against the local model server", () => {
  const client = new Anthropic({ apiKey: MODEL_KEY, baseURL: MODEL_URL, maxRetries: 0 });
  const params = {
    model: "claude-sonnet-5-5",
    max_tokens: 64,
    messages: [{ role: "user" as const, content: "hello" }],
  };

  /** Scripts the model server's answers for requests sending `x-model-scenario: <id>`. */
  async function script(
    responses: unknown[],
  ): Promise<{ headers: Record<string, string>; count(): Promise<number> }> {
    const scenario = `retry-${crypto.randomUUID()}`;
    const res = await fetch(`${MODEL_URL}/__script`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scenario, responses }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    return {
      headers: { "x-model-scenario": scenario },
      async count() {
        const recorded = await fetch(`${MODEL_URL}/__requests?scenario=${scenario}`);
        return ((await recorded.json()) as { requests: unknown[] }).requests.length;
      },
    };
  }

  const ok = { message: { content: [{ type: "text", text: "ok" }] } };

  it("waits out a 429's retry-after, retries a 529 and succeeds on attempt 3", async () => {
    const scenario = await script([
      { error: { status: 429, type: "rate_limit_error", retryAfter: 1 } },
      { error: { status: 529, type: "overloaded_error" } },
      ok,
    ]);
    const onRetry = vi.fn();
    let succeededOn = 0;
    const message = await withProviderRetries(
      async (attempt) => {
        const answer = await client.messages.create(params, { headers: scenario.headers });
        succeededOn = attempt;
        return answer;
      },
      { deadline: Date.now() + 10_000, onRetry, random: () => 0.1 },
    );
    expect(message.content).toEqual([expect.objectContaining({ type: "text", text: "ok" })]);
    expect(succeededOn).toBe(3);
    expect(onRetry.mock.calls.map(([info]) => [info.attempt, info.status, info.delayMs])).toEqual([
      [1, 429, 1000],
      [2, 529, 100],
    ]);
    expect(await scenario.count()).toBe(3);
  });

  it("retries a stream that overloads after it has started", async () => {
    const scenario = await script([{ error: { status: 529, type: "overloaded_error", inStream: true } }, ok]);
    const onRetry = vi.fn();
    const message = await withProviderRetries(
      () => client.messages.stream(params, { headers: scenario.headers }).finalMessage(),
      { deadline: Date.now() + 10_000, onRetry, random: () => 0 },
    );
    expect(message.content).toEqual([expect.objectContaining({ type: "text", text: "ok" })]);
    expect(onRetry).toHaveBeenCalledOnce();
    expect(onRetry.mock.calls[0]?.[0]).toMatchObject({ attempt: 1, status: undefined });
    expect(onRetry.mock.calls[0]?.[0].message).toContain("overloaded_error");
    expect(await scenario.count()).toBe(2);
  });

  it("does not retry a 400", async () => {
    const scenario = await script([{ error: { status: 400, type: "invalid_request_error" } }, ok]);
    const attempt = withProviderRetries(() => client.messages.create(params, { headers: scenario.headers }), {
      deadline: Date.now() + 10_000,
    });
    await expect(attempt).rejects.toBeInstanceOf(BadRequestError);
    expect(await scenario.count()).toBe(1);
  });
});
