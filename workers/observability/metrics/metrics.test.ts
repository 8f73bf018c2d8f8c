import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parsePrometheus } from "../../../test/harness/prometheus";
import { parseConfig } from "../../env";
import { redisFor } from "../../lib/redis";
import { counters, gauges, histograms } from "./catalog";
import { renderExposition } from "./exposition";
import { KNOWN_GAUGE_LABELS } from "./gauges";
import { MetricsRecorder } from "./recorder";
import { type MetricsStore, metricsKey, redisMetricsStore } from "./store";

/** A store of its own in the real Redis, so the test's totals are exact. */
function freshStore(): MetricsStore {
  return redisMetricsStore(redisFor(parseConfig(env)), metricsKey(`test-${crypto.randomUUID()}`));
}

describe("metrics recorded by several isolates", () => {
  it("add up in the shared store, and render as a valid exposition", async () => {
    const store = freshStore();
    // Each recorder stands for one isolate: a Worker serving requests, an agent run's object, a queue consumer.
    const isolates = [new MetricsRecorder(store), new MetricsRecorder(store), new MetricsRecorder(store)];
    isolates.forEach((isolate, i) => {
      isolate.count("meridian_http_requests_total", 1, { method: "GET", route: "/v1/agents", status: 200 });
      isolate.count("meridian_http_requests_total", 2, {
        method: "GET",
        route: "/v1/agents/:id",
        status: 404,
      });
      isolate.count("meridian_model_cost_usd_total", 0.25, { model: "claude-sonnet-4-6" });
      isolate.observe("meridian_http_request_duration_seconds", [0.003, 0.2, 7][i] as number, {
        method: "GET",
        route: "/v1/agents",
      });
    });
    await Promise.all(isolates.map((isolate) => isolate.flush()));

    const totals = await store.read();
    const scrape = parsePrometheus(renderExposition(totals, [], KNOWN_GAUGE_LABELS));
    expect(scrape.value('meridian_http_requests_total{method="GET",route="/v1/agents",status="200"}')).toBe(
      3,
    );
    expect(
      scrape.value('meridian_http_requests_total{method="GET",route="/v1/agents/:id",status="404"}'),
    ).toBe(6);
    expect(scrape.value('meridian_model_cost_usd_total{model="claude-sonnet-4-6"}')).toBeCloseTo(0.75, 10);

    // Buckets are cumulative, complete and in order; +Inf is the count.
    const labels = 'method="GET",route="/v1/agents"';
    const bucket = (le: string) =>
      scrape.value(`meridian_http_request_duration_seconds_bucket{${labels},le="${le}"}`);
    expect(bucket("0.005")).toBe(1);
    expect(bucket("0.1")).toBe(1);
    expect(bucket("0.25")).toBe(2);
    expect(bucket("5")).toBe(2);
    expect(bucket("10")).toBe(3);
    expect(bucket("+Inf")).toBe(3);
    expect(scrape.value(`meridian_http_request_duration_seconds_count{${labels}}`)).toBe(3);
    expect(scrape.value(`meridian_http_request_duration_seconds_sum{${labels}}`)).toBeCloseTo(7.203, 10);
    const bucketKeys = [...scrape.samples.keys()].filter((k) =>
      k.startsWith("meridian_http_request_duration_seconds_bucket"),
    );
    expect(bucketKeys).toHaveLength(histograms.meridian_http_request_duration_seconds.buckets.length + 1);

    // Every metric of the catalog is declared with its type, and the gauges show every status.
    for (const name of Object.keys(counters)) expect(scrape.types.get(name)).toBe("counter");
    for (const name of Object.keys(histograms)) expect(scrape.types.get(name)).toBe("histogram");
    for (const name of Object.keys(gauges)) expect(scrape.types.get(name)).toBe("gauge");
    expect(scrape.value('meridian_documents{status="failed"}')).toBe(0);
    expect(scrape.samples.has('meridian_documents{status="failed"}')).toBe(true);
  });

  it("keep what a failed flush could not send, and send it with the next", async () => {
    const real = freshStore();
    let down = true;
    // Redis refusing one flush, then coming back.
    const flaky: MetricsStore = {
      add: (increments) => (down ? Promise.reject(new Error("redis unreachable")) : real.add(increments)),
      read: () => real.read(),
    };
    const recorder = new MetricsRecorder(flaky);
    recorder.count("meridian_tool_calls_total", 2, { type: "mcp", outcome: "ok" });
    await expect(recorder.flush()).rejects.toThrow("redis unreachable");
    down = false;
    recorder.count("meridian_tool_calls_total", 1, { type: "mcp", outcome: "ok" });
    await recorder.flush();
    expect((await real.read()).get('meridian_tool_calls_total{type="mcp",outcome="ok"}')).toBe(3);
    // Nothing is sent twice.
    await recorder.flush();
    expect((await real.read()).get('meridian_tool_calls_total{type="mcp",outcome="ok"}')).toBe(3);
  });

  it("escape label values so a quote or newline cannot forge a series", async () => {
    const store = freshStore();
    const recorder = new MetricsRecorder(store);
    recorder.count("meridian_rate_limit_rejections_total", 1, { limit: 'a"b\\c\nd' });
    await recorder.flush();
    const text = renderExposition(await store.read(), [], KNOWN_GAUGE_LABELS);
    const scrape = parsePrometheus(text);
    expect(scrape.value('meridian_rate_limit_rejections_total{limit="a\\"b\\\\c\\nd"}')).toBe(1);
  });
});
