/**
 * Series names in the Prometheus text format: `name{label="value",...}`, labels in the order the
 * catalog declares them, so one series always has one key in the Redis hash and in the output.
 */

/** Escapes a label value as the exposition format requires (backslash, quote, newline). */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * `name{a="1",b="2"}` for the declared `labelNames`, in that order; labels passed but not
 * declared are ignored, declared but missing ones are written empty.
 *
 * @example
 * seriesKey("meridian_http_requests_total", ["method", "route"], { method: "GET", route: "/v1/agents" })
 * // 'meridian_http_requests_total{method="GET",route="/v1/agents"}'
 */
export function seriesKey(
  name: string,
  labelNames: readonly string[],
  labels: Readonly<Record<string, string | number>>,
  extra?: { name: string; value: string },
): string {
  const parts = labelNames.map((label) => `${label}="${escapeLabelValue(String(labels[label] ?? ""))}"`);
  if (extra) parts.push(`${extra.name}="${escapeLabelValue(extra.value)}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(",")}}`;
}

/** The metric name of a series key (what precedes `{`). */
export function metricNameOf(key: string): string {
  const brace = key.indexOf("{");
  return brace === -1 ? key : key.slice(0, brace);
}

/** Prometheus' spelling of a bucket bound: `+Inf`, or the number as written. */
export function formatBound(bound: number): string {
  return bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound);
}
