import type { TracingSettings } from "./config";

type Sdk = typeof import("./sdk");

let loading: Promise<Sdk> | undefined;

/**
 * The tracing SDK, imported on first use and registered for this isolate. Only isolates whose
 * configuration names a collector ever call this, so a deployment without one never evaluates
 * otel-cf-workers (which patches the global `fetch` when it loads).
 *
 * @example
 * const sdk = await loadTracing(settings);
 * try { await work(); } finally { ctx.waitUntil(sdk.flushSpans()); }
 */
export async function loadTracing(settings: TracingSettings): Promise<Sdk> {
  loading ??= import("./sdk");
  const sdk = await loading;
  sdk.registerTracing(settings);
  return sdk;
}
