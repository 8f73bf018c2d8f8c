/**
 * The Sentry client, loaded with `import()` by report.ts only when a DSN is configured. Events
 * are sent by a client of our own rather than through `withSentry`: that wrapper would also
 * trace requests (OpenTelemetry does), read request headers and bodies into events and pipe
 * every streamed response through itself. Here an event carries the error, its stack, the
 * tags we choose and the trace ids, nothing from the request.
 */
import { CloudflareClient, createTransport, linkedErrorsIntegration, Scope } from "@sentry/cloudflare";
import { createStackParser } from "@sentry/core";
import { nodeStackLineParser } from "@sentry/core/server";
import type { ErrorTags } from "./report";

/** How long sending an event may hold the invocation open. */
const FLUSH_TIMEOUT_MS = 2_000;

const clients = new Map<string, CloudflareClient>();

/** One client per isolate and DSN: its transport holds nothing between invocations. */
function clientFor(dsn: string, environment: string): CloudflareClient {
  const key = `${dsn}|${environment}`;
  let client = clients.get(key);
  if (!client) {
    client = new CloudflareClient({
      dsn,
      environment,
      // Only the chain of `cause`s: no breadcrumbs from the console, no request data, and no
      // deduplication (the same failure on two requests is two events).
      integrations: [linkedErrorsIntegration()],
      stackParser: createStackParser(nodeStackLineParser()),
      transport: (options) =>
        createTransport(options, async (request) => {
          const response = await fetch(options.url, {
            method: "POST",
            headers: { "content-type": "application/x-sentry-envelope", ...options.headers },
            body: request.body,
          });
          await response.arrayBuffer();
          return {
            statusCode: response.status,
            headers: {
              "x-sentry-rate-limits": response.headers.get("x-sentry-rate-limits"),
              "retry-after": response.headers.get("retry-after"),
            },
          };
        }),
    });
    client.init();
    clients.set(key, client);
  }
  return client;
}

const TAG_NAMES: Record<keyof ErrorTags, string> = {
  source: "source",
  requestId: "request_id",
  tenantId: "tenant_id",
  route: "route",
  method: "method",
  jobType: "job_type",
  runId: "run_id",
  executionId: "execution_id",
};

/** Sends one error event and waits (bounded) for it to leave. */
export async function capture(
  dsn: string,
  environment: string,
  error: unknown,
  tags: ErrorTags,
  trace: { traceId: string; spanId: string } | undefined,
): Promise<void> {
  const client = clientFor(dsn, environment);
  const scope = new Scope();
  for (const [key, value] of Object.entries(tags)) {
    if (value !== undefined) scope.setTag(TAG_NAMES[key as keyof ErrorTags], value);
  }
  if (tags.route) scope.setTransactionName(`${tags.method ?? ""} ${tags.route}`.trim());
  if (trace) {
    // The event's trace context is the OpenTelemetry trace's, so Sentry links it to that trace.
    scope.setPropagationContext({ traceId: trace.traceId, parentSpanId: trace.spanId, sampleRand: 1 });
    scope.setTag("trace_id", trace.traceId);
  }
  client.captureException(error, { mechanism: { type: `meridian.${tags.source}`, handled: false } }, scope);
  await client.flush(FLUSH_TIMEOUT_MS);
}
