import { handleJobs } from "../queues/jobs/consumer";
import { scheduled } from "../queues/jobs/schedule";
import { app } from "./api";
import type { Env } from "./env";
import { releaseConnection } from "./lib/connection";
import { newLogger } from "./lib/logger";
import { type TracingSettings, tracingSettings } from "./observability/tracing/config";
import { loadTracing } from "./observability/tracing/load";
import { tracedEnv } from "./observability/tracing/queue";
import { tagActiveSpan } from "./observability/tracing/spans";

export { app };

type FetchHandler = ExportedHandlerFetchHandler<Env>;

/** The API for one request, its database connection closed after the response. */
async function serve(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  try {
    return await app.fetch(request, env, ctx);
  } finally {
    ctx.waitUntil(releaseConnection(ctx));
  }
}

let tracedServe: Promise<FetchHandler> | undefined;

/** The tracing SDK, or null (logged) if it cannot load: the Worker then serves untraced. */
async function tracingOrNull(settings: TracingSettings) {
  try {
    return await loadTracing(settings);
  } catch (error) {
    newLogger("error").error("tracing did not load; serving without it", {
      error: error instanceof Error ? error.message : String(error),
    });
    return null;
  }
}

/**
 * `serve` inside otel-cf-workers' request span, built once per isolate. The app gets the env
 * the runtime passed (unwrapped from the package's per-request proxy, which would defeat
 * parseConfig's per-env cache and wrap Durable Object stubs in proxies made before RPC
 * existed), with a JOBS binding that carries trace context into queue messages.
 */
function tracedFetch(settings: TracingSettings): Promise<FetchHandler> {
  if (!tracedServe) {
    tracedServe = tracingOrNull(settings).then((sdk) =>
      sdk
        ? sdk.instrumentFetch(async (request, env, ctx) => {
            const response = await serve(request, tracedEnv(sdk.unwrap(env)), ctx);
            tagActiveSpan({ "meridian.request_id": response.headers.get("x-request-id") ?? undefined });
            return response;
          }, settings)
        : serve,
    );
  }
  return tracedServe;
}

/**
 * The Worker. With OTEL_EXPORTER_OTLP_ENDPOINT set, requests and queue messages are traced
 * (docs/tracing.md); unset, they run exactly as before, with no tracing code loaded.
 */
export default {
  async fetch(request, env, ctx) {
    const tracing = tracingSettings(env);
    if (!tracing) return serve(request, env, ctx);
    return (await tracedFetch(tracing))(request, env, ctx);
  },
  // `ctx` is optional for tests that hand a batch to the handler directly.
  async queue(batch: MessageBatch<unknown>, env: Env, ctx?: ExecutionContext) {
    const tracing = tracingSettings(env);
    if (!tracing) return handleJobs(batch, env);
    // Each message gets its own span (queues/jobs/consumer.ts); here they are exported when the
    // batch is done. otel-cf-workers' queue wrapper is not used: in 0.9.1 it drops the options
    // of `message.retry()` (the backoff delay) and ends its span before the handler finishes.
    const sdk = await tracingOrNull(tracing);
    if (!sdk) return handleJobs(batch, env);
    try {
      await handleJobs(batch, tracedEnv(env));
    } finally {
      const flushed = sdk.flushSpans();
      if (ctx) ctx.waitUntil(flushed);
      else await flushed;
    }
  },
  scheduled,
} satisfies ExportedHandler<Env, unknown>;

export { AgentRun } from "../durable-objects/agent-run/agent-run";
export { WorkflowExecution } from "../durable-objects/workflow-execution/workflow-execution";
