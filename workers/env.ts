import { z } from "zod";
import { ApiError } from "./lib/errors";
import { modelPricesSchema } from "./lib/models";

/**
 * The Worker's configuration: bindings, vars and secrets, checked once per request by
 * `parseEnv` so a missing value fails at the edge with BAD_ENVIRONMENT instead of deep
 * inside a handler.
 */
export const envSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
  /** PostgreSQL connection string for the app role (never the table owner). */
  DATABASE_URL: z.string().url(),
  /**
   * host:port of a Neon-protocol WebSocket relay. Set only for local PostgreSQL (dev, tests);
   * unset means the Neon driver talks to Neon's own proxy.
   */
  NEON_WS_PROXY: z.string().min(1).optional(),
  /**
   * PostgreSQL URL the built-in `database` MCP server queries when a call names no connection of
   * the tenant's: a shared sample database, as a role that can only read it (the local stack
   * creates `meridian_sample` and `meridian_sample_reader`). Operator configuration, so the
   * outbound checks for tenant URLs do not apply. Unset: such calls answer "not configured".
   */
  SAMPLE_DATABASE_URL: z.string().url().optional(),
  UPSTASH_REDIS_REST_URL: z.string().url(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  /** Comma-separated `kid:secret` pairs; the first signs new tokens, all verify. */
  AUTH_JWT_SECRETS: z.string().min(1),
  AUTH_JWT_ISSUER: z.string().min(1).default("meridian"),
  AUTH_JWT_AUDIENCE: z.string().min(1).default("meridian-api"),
  /** Comma-separated `kid:base64key` pairs (32-byte AES keys); the first encrypts new secrets. */
  SECRETS_MASTER_KEYS: z.string().min(1),
  /** Server-side pepper mixed into every password hash. */
  PASSWORD_PEPPER: z.string().min(16),
  /** Bearer token of the platform admin (creates tenants, sets their limits). */
  PLATFORM_ADMIN_TOKEN: z.string().min(24),
  /**
   * Bearer token Prometheus presents to `GET /metrics`. Set, it is required; unset, /metrics is
   * open outside production and answers 404 in production.
   */
  METRICS_TOKEN: z.string().min(16).optional(),
  /** Prefix of the Redis key that sums the metrics, for deployments sharing one Redis. */
  METRICS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_-]{1,64}$/)
    .default("meridian"),
  /** Comma-separated allowed CORS origins; empty allows none. */
  CORS_ORIGINS: z.string().default(""),
  /** Open signup creates a tenant without the platform admin. Development only. */
  ALLOW_SIGNUP: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  /**
   * Let outbound calls to tenant URLs (webhooks) reach private and loopback hosts. For local
   * development and tests, where receivers run on 127.0.0.1; ignored when ENVIRONMENT is production.
   */
  OUTBOUND_ALLOW_PRIVATE: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  /** Largest accepted request body, in bytes. */
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
  /** Largest document upload (`/v1/rag/documents`, one request, all files together), in bytes. */
  MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(10_485_760),
  /**
   * A document whose ingestion has not moved for this long is re-queued (or failed, after
   * RAG_MAX_ATTEMPTS) by the scheduled sweep. Longer than the queue's longest retry delay (15 min).
   */
  RAG_STALE_AFTER_SECONDS: z.coerce.number().int().min(1).default(1800),
  /** Processing attempts of one document (queue retries and sweeps together) before it is failed. */
  RAG_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  /**
   * Raw usage events older than this are deleted by the hourly housekeeping; their hourly
   * rollups stay (docs/usage.md). 400 days covers a year of invoices and their disputes.
   */
  USAGE_EVENTS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /**
   * Base URL of an OTLP/HTTP trace collector (Jaeger, an OpenTelemetry Collector, Honeycomb,
   * Grafana Cloud); spans go to `<base>/v1/traces` as OTLP/JSON. Unset: no tracing, and none of
   * the tracing code is loaded. See docs/tracing.md.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /**
   * Headers sent with every export, `name=value,name2=value2` (values may be percent-encoded),
   * e.g. `x-honeycomb-team=<key>`. Usually carries an API key: set it as a secret.
   */
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, "expected name=value,name2=value2")
    .optional(),
  /** The traces' `service.name`. @default "meridian" */
  OTEL_SERVICE_NAME: z.string().min(1).default("meridian"),
  /**
   * Sentry DSN: unexpected errors (500s, failed jobs, failed workflow passes and agent runs) are
   * reported there, tagged with request id, tenant and trace id. Unset: nothing is reported and
   * no Sentry code is loaded.
   */
  SENTRY_DSN: z.string().url().optional(),
  /**
   * Anthropic API key; required in production. `npm run dev` and the tests set it to the local
   * model server's key, with ANTHROPIC_BASE_URL pointing at that server.
   */
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  /** The provider's base URL: Anthropic, Cloudflare AI Gateway, a company proxy or the local model server. */
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  // Embedding vendors for knowledge-base collections. Their URLs are operator configuration, like
  // ANTHROPIC_BASE_URL, so calls to them skip the outbound checks for tenant URLs: a tenant picks
  // only the vendor and model, never where the request goes. Unset keys answer "not configured".
  /** Voyage AI API key, for collections with `embedding_provider` "voyage". */
  VOYAGE_API_KEY: z.string().min(1).optional(),
  /** Voyage AI's base URL (requests go to `<base>/v1/embeddings`). */
  VOYAGE_BASE_URL: z.string().url().default("https://api.voyageai.com"),
  /** API key of the OpenAI-compatible embeddings server; servers that need none (Ollama) take any value. */
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** Base URL of the OpenAI-compatible server: OpenAI, a gateway, Ollama, vLLM (`<base>/v1/embeddings`). */
  OPENAI_BASE_URL: z.string().url().default("https://api.openai.com"),
  /** Cloudflare account of the Workers AI REST API, used when the Worker has no `AI` binding. */
  CLOUDFLARE_ACCOUNT_ID: z.string().min(1).optional(),
  /** API token (Workers AI Read) for the Workers AI REST API. */
  CLOUDFLARE_API_TOKEN: z.string().min(1).optional(),
  /** Base URL of the Cloudflare API, for the Workers AI REST API. */
  WORKERS_AI_BASE_URL: z.string().url().default("https://api.cloudflare.com"),
  /**
   * How long a streamed run keeps going with no client attached before it is cancelled with
   * stop reason `client_disconnected`. A client may reattach (Last-Event-ID) until then.
   */
  AGENT_RUN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /** How long a tool call waits for a human's approval before the run ends `approval_expired`. */
  AGENT_APPROVAL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(3600),
  /**
   * JSON object of model -> { inputPerMTok, outputPerMTok, cacheWritePerMTok, cacheReadPerMTok }
   * (USD per million tokens), merged over the list prices in workers/lib/models.ts.
   */
  MODEL_PRICES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (!text) return undefined;
      try {
        return modelPricesSchema.parse(JSON.parse(text));
      } catch {
        ctx.addIssue({ code: "custom", message: "MODEL_PRICES must be a JSON object of model prices" });
        return z.NEVER;
      }
    }),
});

export type Config = z.infer<typeof envSchema>;

/** Config keys as they arrive: strings from `[vars]`, secrets and `.dev.vars`. */
type RawConfig = { [K in keyof z.input<typeof envSchema>]?: string };

declare global {
  namespace Cloudflare {
    /** The Worker's bindings, as wrangler.toml declares them. */
    interface Env extends RawConfig {
      WORKFLOW_EXECUTION: DurableObjectNamespace<
        import("../durable-objects/workflow-execution/workflow-execution").WorkflowExecution
      >;
      AGENT_RUN: DurableObjectNamespace<import("../durable-objects/agent-run/agent-run").AgentRun>;
      JOBS: Queue<import("../queues/jobs/message").JobMessage>;
      /** Original uploads of knowledge-base documents, under `tenants/<tenantId>/documents/`. */
      DOCUMENTS: R2Bucket;
      /**
       * Workers AI, for collections with `embedding_provider` "workers-ai". Not declared in
       * wrangler.toml because it has no local emulation; add `[ai] binding = "AI"` there in
       * production to use it. Without it, Workers AI is reached through its REST API.
       */
      AI?: Ai;
    }
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "WorkflowExecution" | "AgentRun";
    }
  }
}

export type Env = Cloudflare.Env;

const parsed = new WeakMap<object, Config>();

/**
 * Parses the string bindings once per isolate and env object.
 *
 * @throws ApiError BAD_ENVIRONMENT naming the missing or invalid keys (never their values).
 */
export function parseConfig(env: Env): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const keys = [...new Set(result.error.issues.map((i) => i.path.join(".")))].join(", ");
    throw new ApiError("BAD_ENVIRONMENT", { detail: `Invalid or missing configuration: ${keys}` });
  }
  // Outside production the local model server stands in for Anthropic; in production a missing
  // key is a configuration error, found on the first request rather than on the first run.
  if (result.data.ENVIRONMENT === "production" && !result.data.ANTHROPIC_API_KEY) {
    throw new ApiError("BAD_ENVIRONMENT", { detail: "Invalid or missing configuration: ANTHROPIC_API_KEY" });
  }
  parsed.set(env, result.data);
  return result.data;
}
