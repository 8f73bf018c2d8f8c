import { env, exports } from "cloudflare:workers";
import type { ReceivedSpan } from "../../scripts/local-stack/fake-otlp-receiver";
import type { ReceivedSentryItem } from "../../scripts/local-stack/fake-sentry-server";

const bindings = env as unknown as { FAKE_OTLP_URL: string; FAKE_SENTRY_URL: string };

/** The test stack's trace collector (OTEL_EXPORTER_OTLP_ENDPOINT points at it). */
export const OTLP_URL = bindings.FAKE_OTLP_URL;
/** The test stack's Sentry (SENTRY_DSN points at it). */
export const SENTRY_URL = bindings.FAKE_SENTRY_URL;

/** OTLP span kinds as the receiver reports them. */
export const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

/** Spans the collector has received, filtered by trace id, name and `key=value` attributes. */
export async function receivedSpans(
  filter: { traceId?: string; name?: string; attributes?: Record<string, string> } = {},
): Promise<ReceivedSpan[]> {
  const query = new URLSearchParams();
  if (filter.traceId) query.set("traceId", filter.traceId);
  if (filter.name) query.set("name", filter.name);
  for (const [key, value] of Object.entries(filter.attributes ?? {})) query.append("attr", `${key}=${value}`);
  const res = await fetch(`${OTLP_URL}/__spans?${query}`);
  return ((await res.json()) as { spans: ReceivedSpan[] }).spans;
}

/** Sentry events received with all of `tags`. */
export async function sentryEvents(tags: Record<string, string>): Promise<ReceivedSentryItem[]> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(tags)) query.append("tag", `${name}:${value}`);
  const res = await fetch(`${SENTRY_URL}/__events?${query}`);
  return ((await res.json()) as { events: ReceivedSentryItem[] }).events;
}

/**
 * Polls `read` until `done` holds (spans and events arrive after the response, from
 * `waitUntil` and from Durable Objects), then returns the last value; throws after `timeoutMs`.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until)
      throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The span otel-cf-workers opened for the request with `requestId`, once exported. It is
 * exported after the request's background work (`waitUntil`) has finished, so once it is here
 * anything that request was going to report has been reported.
 */
export async function requestSpan(requestId: string): Promise<ReceivedSpan> {
  const [span] = await eventually(
    () => receivedSpans({ attributes: { "meridian.request_id": requestId } }),
    (spans) => spans.length > 0,
  );
  return span as ReceivedSpan;
}

/**
 * Waits until spans of earlier traced work in this isolate (the warm-up request, a previous
 * test's) have been exported: a traced request's own span arrives only with every span ended
 * before it, so nothing older is left to send afterwards.
 */
export async function settleTracing(): Promise<void> {
  const requestId = `req_settle_${crypto.randomUUID()}`;
  const res = await exports.default.fetch(
    new Request("https://api.meridian.test/health", { headers: { "x-request-id": requestId } }),
  );
  await res.arrayBuffer();
  await requestSpan(requestId);
}
