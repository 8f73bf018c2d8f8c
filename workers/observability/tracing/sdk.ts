/**
 * The OpenTelemetry SDK side of tracing, built from @microlabs/otel-cf-workers 0.9.1. Loaded
 * with `import()` only by an isolate whose configuration names a collector (load.ts), because
 * importing the package patches the global `fetch`.
 *
 * We register the package's tracer provider, exporter and context manager ourselves, through
 * the top-level @opentelemetry/api (1.9), instead of letting `instrument()` do it: the package
 * registers through its own nested copy of the API (1.4), and a global registered by 1.4 is
 * invisible to 1.9 callers (ours), while 1.4 callers (the package's) accept one registered by
 * 1.9. The package's later attempt to register is then refused by the API, harmlessly.
 */
import { instrument, type resolveConfig } from "@microlabs/otel-cf-workers";
import { AsyncLocalStorageContextManager } from "@microlabs/otel-cf-workers/dist/context.js";
import { OTLPFetchTraceExporter } from "@microlabs/otel-cf-workers/dist/exporter.js";
import { unwrap } from "@microlabs/otel-cf-workers/dist/instrumentation/common.js";
import { WorkerTracerProvider } from "@microlabs/otel-cf-workers/dist/provider.js";
import { context, propagation, type TracerProvider, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { Resource } from "@opentelemetry/resources";
import type { TracingSettings } from "./config";
import { FlushingSpanProcessor } from "./processor";
import { markTracingRegistered } from "./spans";

export { unwrap };

// Loading otel-cf-workers patched the global `fetch` and `caches`. Its `fetch` is a proxy that
// answers undefined for every property, so `fetch.call(...)` (how the Anthropic SDK calls it)
// throws: the patched `fetch` goes behind a plain function, which keeps its outbound spans.
// The `caches` patch is undone: nothing here uses the Cache API, and its spans are off.
const patchedFetch = globalThis.fetch;
globalThis.fetch = function fetch(input: RequestInfo | URL, init?: RequestInit) {
  return patchedFetch(input, init);
} as typeof globalThis.fetch;
const scope = globalThis as unknown as { caches: CacheStorage };
scope.caches = unwrap(scope.caches);

let processor: FlushingSpanProcessor | undefined;

/**
 * Registers this isolate's tracer provider once. The first settings win: they are the
 * deployment's configuration, the same for every invocation.
 */
export function registerTracing(settings: TracingSettings): void {
  if (processor) return;
  processor = new FlushingSpanProcessor(
    new OTLPFetchTraceExporter({ url: settings.tracesUrl, headers: settings.headers }),
  );
  const resource = new Resource({
    "service.name": settings.serviceName,
    "cloud.provider": "cloudflare",
    "cloud.platform": "cloudflare.workers",
    "telemetry.sdk.name": "@microlabs/otel-cf-workers",
  });
  // The package's types name @opentelemetry/sdk-trace-base's SpanProcessor (which ours
  // implements structurally) and API 1.4's TracerProvider (whose spans lack 1.9's `addLink`,
  // which nothing of ours calls).
  const provider = new WorkerTracerProvider(
    processor as unknown as ConstructorParameters<typeof WorkerTracerProvider>[0],
    resource,
  );
  trace.setGlobalTracerProvider(provider as unknown as TracerProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  markTracingRegistered();
}

/** Exports the spans ended so far. Never rejects: tracing must not fail the work it watches. */
export function flushSpans(): Promise<void> {
  return processor?.forceFlush() ?? Promise.resolve();
}

/**
 * `handler.fetch` inside otel-cf-workers' request span (trace context from the incoming
 * `traceparent`, status and errors recorded), with the package's automatic spans for outbound
 * `fetch` calls. Outbound calls carry no `traceparent`: they go to parties whose traces we do
 * not collect (the model provider, tenants' webhooks and MCP servers).
 */
export function instrumentFetch(
  fetch: ExportedHandlerFetchHandler<Cloudflare.Env>,
  settings: TracingSettings,
): ExportedHandlerFetchHandler<Cloudflare.Env> {
  const config: resolveConfig = () => {
    registerTracing(settings);
    return {
      exporter: { url: settings.tracesUrl, headers: settings.headers },
      service: { name: settings.serviceName },
      globals: { fetch: { includeTraceContext: false }, caches: false },
      bindings: { kv: false },
    };
  };
  const instrumented = instrument<Cloudflare.Env, unknown, unknown>({ fetch }, config).fetch;
  if (!instrumented) throw new Error("otel-cf-workers returned no fetch handler");
  return instrumented;
}
