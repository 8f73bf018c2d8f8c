/**
 * Every metric Meridian records, with its labels. A name or label not listed here is refused at
 * compile time (the Telemetry interface takes these names only), so label sets stay small: no ids
 * as labels, only bounded values (route patterns, statuses, models, kinds).
 *
 * Counters and histograms are recorded by the code that does the work and summed across isolates
 * in Redis (see recorder.ts); gauges are read from PostgreSQL when /metrics is scraped (see
 * gauges.ts), because Workers have no queue-depth API and PostgreSQL knows each stage.
 */

/** Latency buckets in seconds, from a cached read to a long model call. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

export const counters = {
  meridian_http_requests_total: {
    help: "HTTP requests answered, by route pattern and status code.",
    labels: ["method", "route", "status"],
  },
  meridian_agent_runs_total: {
    help: "Agent runs that ended, by model and status (succeeded, failed, cancelled, ...).",
    labels: ["model", "status"],
  },
  meridian_model_calls_total: {
    help: "Calls to the model provider, by model and outcome (ok, error).",
    labels: ["model", "outcome"],
  },
  meridian_model_tokens_total: {
    help: "Model tokens, by model and kind (input, output, cache_write, cache_read).",
    labels: ["model", "kind"],
  },
  meridian_model_cost_usd_total: {
    help: "Model cost in US dollars from the price table, by model.",
    labels: ["model"],
  },
  meridian_tool_calls_total: {
    help: "Tool calls made by agents, workflows and /v1/mcp/execute, by tool type (builtin, mcp, agent, knowledge) and outcome (ok, error, denied).",
    labels: ["type", "outcome"],
  },
  meridian_ingestion_documents_total: {
    help: "Documents leaving the ingestion consumer, by outcome (indexed, retried, failed, dead_lettered).",
    labels: ["outcome"],
  },
  meridian_ingestion_chunks_total: {
    help: "Chunks written by the ingestion consumer.",
    labels: [],
  },
  meridian_embedding_tokens_total: {
    help: "Tokens sent to embedding providers, by provider.",
    labels: ["provider"],
  },
  meridian_workflow_executions_total: {
    help: "Workflow executions that ended, by status (succeeded, failed, cancelled, timed_out).",
    labels: ["status"],
  },
  meridian_rate_limit_rejections_total: {
    help: "Requests refused by a rate limit or quota, by limit (requests, concurrency, ...).",
    labels: ["limit"],
  },
  meridian_cache_requests_total: {
    help: "Reads of the Redis cache, by cache (agent, mcp_discovery, collection) and result (hit, miss).",
    labels: ["cache", "result"],
  },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>;

export const histograms = {
  meridian_http_request_duration_seconds: {
    help: "Time to answer an HTTP request (to the response's headers), by route pattern.",
    labels: ["method", "route"],
    buckets: SECONDS,
  },
  meridian_agent_run_duration_seconds: {
    help: "Time from an agent run's start to its end, by model.",
    labels: ["model"],
    buckets: SECONDS,
  },
  meridian_ingestion_duration_seconds: {
    help: "Time the ingestion consumer spent on one document (parse, chunk, embed, write).",
    labels: [],
    buckets: SECONDS,
  },
  meridian_workflow_step_duration_seconds: {
    help: "Time of one workflow step attempt, by step type and status.",
    labels: ["type", "status"],
    buckets: SECONDS,
  },
} as const satisfies Record<string, { help: string; labels: readonly string[]; buckets: readonly number[] }>;

/** Read from PostgreSQL at scrape time; summed over all tenants. */
export const gauges = {
  meridian_documents: {
    help: "Documents by ingestion status (queued, parsing, chunking, embedding, indexed, failed). The backlog is the sum of the first four; failed is what reached the dead-letter queue or ran out of attempts.",
    labels: ["status"],
  },
  meridian_workflow_executions: {
    help: "Workflow executions by status (pending, running, waiting, and the ended ones).",
    labels: ["status"],
  },
  meridian_mcp_servers: {
    help: "Registered remote MCP servers by last health check (unknown, healthy, degraded, unreachable).",
    labels: ["health"],
  },
} as const satisfies Record<string, { help: string; labels: readonly string[] }>;

export type CounterName = keyof typeof counters;
export type HistogramName = keyof typeof histograms;
export type GaugeName = keyof typeof gauges;

/** The label values a metric takes: exactly its declared labels. */
export type LabelsOf<D extends { labels: readonly string[] }> = {
  [K in D["labels"][number]]: string | number;
};
