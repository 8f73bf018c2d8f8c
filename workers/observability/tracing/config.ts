/** Where and as what the Worker sends its spans. */
export interface TracingSettings {
  /** `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
  tracesUrl: string;
  /** From OTEL_EXPORTER_OTLP_HEADERS (API keys: never logged). */
  headers: Record<string, string>;
  serviceName: string;
}

/** The keys tracing reads, raw (bindings) or parsed (Config): both are strings here. */
export interface TracingEnv {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_HEADERS?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

/** Per env object, like parseConfig: the entry asks on every invocation, before the app runs. */
const cache = new WeakMap<object, TracingSettings | null>();

/**
 * The tracing settings of a deployment, or null when OTEL_EXPORTER_OTLP_ENDPOINT is unset (or
 * not a URL, which parseConfig then reports as BAD_ENVIRONMENT): tracing is off.
 *
 * @example
 * const settings = tracingSettings(env); // { tracesUrl: "http://127.0.0.1:4318/v1/traces", ... }
 */
export function tracingSettings(env: TracingEnv): TracingSettings | null {
  const cached = cache.get(env);
  if (cached !== undefined) return cached;
  const settings = readSettings(env);
  cache.set(env, settings);
  return settings;
}

function readSettings(env: TracingEnv): TracingSettings | null {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || !URL.canParse(endpoint)) return null;
  return {
    tracesUrl: `${endpoint.replace(/\/+$/, "")}/v1/traces`,
    headers: parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS ?? ""),
    serviceName: env.OTEL_SERVICE_NAME || "meridian",
  };
}

/**
 * `name=value,name2=value2` as the OpenTelemetry exporters read OTEL_EXPORTER_OTLP_HEADERS:
 * values percent-decoded, malformed pairs skipped.
 */
export function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim().toLowerCase();
    const raw = pair.slice(at + 1).trim();
    if (!name) continue;
    try {
      headers[name] = decodeURIComponent(raw);
    } catch {
      headers[name] = raw;
    }
  }
  return headers;
}
