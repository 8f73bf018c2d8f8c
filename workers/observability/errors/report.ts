import { activeTraceIds } from "../tracing/spans";

/** Where an error happened and for whom: ids only, which become the Sentry event's tags. */
export interface ErrorTags {
  source: "http" | "queue" | "workflow" | "agent_run";
  requestId?: string | undefined;
  tenantId?: string | undefined;
  /** The route pattern (`/v1/agents/:id`), never the path. */
  route?: string | undefined;
  method?: string | undefined;
  jobType?: string | undefined;
  runId?: string | undefined;
  executionId?: string | undefined;
}

/** The keys reporting reads, raw (bindings) or parsed (Config). */
export interface ErrorReportingEnv {
  SENTRY_DSN?: string | undefined;
  ENVIRONMENT?: string | undefined;
}

/**
 * Reports an unexpected error to Sentry, tagged with `tags` and the active trace's ids, so an
 * event, its trace and its log lines share `request_id` and `trace_id`. Hand the promise to
 * `waitUntil` (or await it); it never rejects. With SENTRY_DSN unset it resolves at once:
 * nothing is loaded and nothing is sent.
 *
 * Only errors nobody expected belong here (a 500, a job that threw, a workflow pass that
 * broke): client errors (4xx ApiErrors) and outcomes a caller handles are never reported.
 *
 * @example
 * ctx.waitUntil(reportError(config, error, { source: "queue", jobType: "rag_ingest", tenantId }));
 */
export function reportError(env: ErrorReportingEnv, error: unknown, tags: ErrorTags): Promise<void> {
  const dsn = env.SENTRY_DSN;
  if (!dsn) return Promise.resolve();
  const trace = activeTraceIds();
  return import("./sentry")
    .then((sentry) => sentry.capture(dsn, env.ENVIRONMENT ?? "production", error, tags, trace))
    .catch(() => undefined);
}
