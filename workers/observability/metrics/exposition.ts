import { counters, type GaugeName, gauges, histograms } from "./catalog";
import { formatBound, metricNameOf, seriesKey } from "./series";

/** One gauge value read at scrape time: the metric, its one label's value, the figure. */
export interface GaugeReading {
  metric: GaugeName;
  label: string;
  value: number;
}

/** The label values each gauge always shows, so a status with nothing in it reads 0, not absent. */
export type KnownGaugeLabels = Record<GaugeName, readonly string[]>;

/**
 * The Prometheus text format (version 0.0.4) of the stored totals and the gauges: every metric
 * of the catalog with HELP and TYPE, series sorted, each histogram's buckets complete and in
 * order. A bucket missing from the store had no observation at or below its bound, so it is 0.
 */
export function renderExposition(
  totals: ReadonlyMap<string, number>,
  readings: readonly GaugeReading[],
  known: KnownGaugeLabels,
): string {
  const byMetric = new Map<string, [string, number][]>();
  for (const [key, value] of totals) {
    const name = metricNameOf(key);
    const list = byMetric.get(name) ?? [];
    list.push([key, value]);
    byMetric.set(name, list);
  }
  const lines: string[] = [];
  const header = (name: string, help: string, type: string) =>
    lines.push(
      `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`,
      `# TYPE ${name} ${type}`,
    );
  const sample = (key: string, value: number) => lines.push(`${key} ${formatValue(value)}`);

  for (const [name, def] of Object.entries(counters)) {
    header(name, def.help, "counter");
    for (const [key, value] of sorted(byMetric.get(name))) sample(key, value);
  }
  for (const [name, def] of Object.entries(histograms)) {
    header(name, def.help, "histogram");
    const buckets = byMetric.get(`${name}_bucket`) ?? [];
    const counts = sorted(byMetric.get(`${name}_count`));
    const sums = new Map(byMetric.get(`${name}_sum`) ?? []);
    const stored = new Map(buckets);
    for (const [countKey, count] of counts) {
      const labels = labelsOf(countKey);
      for (const bound of [...def.buckets, Number.POSITIVE_INFINITY]) {
        const key = seriesKey(`${name}_bucket`, def.labels, labels, {
          name: "le",
          value: formatBound(bound),
        });
        sample(key, bound === Number.POSITIVE_INFINITY ? count : (stored.get(key) ?? 0));
      }
      const sumKey = seriesKey(`${name}_sum`, def.labels, labels);
      sample(sumKey, sums.get(sumKey) ?? 0);
      sample(countKey, count);
    }
  }
  for (const [name, def] of Object.entries(gauges) as [GaugeName, (typeof gauges)[GaugeName]][]) {
    header(name, def.help, "gauge");
    const values = new Map<string, number>(known[name].map((label) => [label, 0]));
    for (const r of readings)
      if (r.metric === name) values.set(r.label, (values.get(r.label) ?? 0) + r.value);
    const labelName = def.labels[0];
    for (const [label, value] of [...values].sort(([a], [b]) => a.localeCompare(b))) {
      sample(seriesKey(name, def.labels, { [labelName]: label }), value);
    }
  }
  return `${lines.join("\n")}\n`;
}

function sorted(list: [string, number][] | undefined): [string, number][] {
  return (list ?? []).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The labels of a series key written by `seriesKey` (values unescaped). */
export function labelsOf(key: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const brace = key.indexOf("{");
  if (brace === -1) return labels;
  const pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const m of key.slice(brace + 1, -1).matchAll(pattern)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\(["\\n])/g, (_, c: string) =>
      c === "n" ? "\n" : c,
    );
  }
  return labels;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
