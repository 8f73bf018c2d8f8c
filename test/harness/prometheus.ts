import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { fetchWithBindings } from "./api";

/** A scrape parsed back: each sample by its series key, each metric's declared type. */
export interface Scrape {
  samples: Map<string, number>;
  types: Map<string, string>;
  /** The value of `key`, 0 when the series is absent. */
  value(key: string): number;
}

/**
 * Parses the Prometheus text format strictly enough to catch a malformed line: every line is a
 * comment (`# HELP`/`# TYPE`) or `series value`.
 */
export function parsePrometheus(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const sample = line.match(
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (\S+)$/,
    );
    expect(sample, `malformed exposition line: ${line}`).not.toBeNull();
    const value = Number((sample as RegExpMatchArray)[2]);
    expect(Number.isNaN(value), `not a number: ${line}`).toBe(false);
    samples.set((sample as RegExpMatchArray)[1] as string, value);
  }
  return { samples, types, value: (key) => samples.get(key) ?? 0 };
}

/**
 * Scrapes `/metrics` through the Worker, with a metrics namespace of the test's own when given
 * (so its counts are exact while other tests run), and parses the answer.
 */
export async function scrape(opts: { namespace?: string; token?: string } = {}): Promise<Scrape> {
  const res = await fetchWorker(
    "/metrics",
    { headers: { authorization: `Bearer ${opts.token ?? env.METRICS_TOKEN}` } },
    opts.namespace,
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(await res.text());
}

/** Calls the Worker directly, with a metrics namespace of the test's own when given. */
export function fetchWorker(path: string, init: RequestInit = {}, namespace?: string): Promise<Response> {
  return fetchWithBindings(path, init, namespace ? { METRICS_NAMESPACE: namespace } : {});
}
