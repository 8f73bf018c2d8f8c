import { type CounterName, counters, type HistogramName, histograms, type LabelsOf } from "./catalog";
import { formatBound, seriesKey } from "./series";
import type { MetricsStore } from "./store";

/**
 * What one isolate recorded since its last flush: increments per series key. Counters and
 * histograms are sums, so isolates' increments add up in the store no matter how many isolates,
 * Durable Objects or queue consumers ran; nothing is kept as a total in memory.
 *
 * @example
 * recorder.count("meridian_agent_runs_total", 1, { model, status: "succeeded" });
 * ctx.waitUntil(recorder.flush());
 */
export class MetricsRecorder {
  private pending = new Map<string, number>();

  constructor(private readonly store: MetricsStore) {}

  count<N extends CounterName>(name: N, value: number, labels: LabelsOf<(typeof counters)[N]>): void {
    if (!(value > 0)) return;
    this.add(seriesKey(name, counters[name].labels, labels), value);
  }

  /** One observation: every bucket it falls in (buckets are cumulative), the sum and the count. */
  observe<N extends HistogramName>(name: N, value: number, labels: LabelsOf<(typeof histograms)[N]>): void {
    if (!Number.isFinite(value)) return;
    const { labels: names, buckets } = histograms[name];
    for (const bound of [...buckets, Number.POSITIVE_INFINITY]) {
      if (value <= bound)
        this.add(seriesKey(`${name}_bucket`, names, labels, { name: "le", value: formatBound(bound) }), 1);
    }
    this.add(seriesKey(`${name}_sum`, names, labels), value);
    this.add(seriesKey(`${name}_count`, names, labels), 1);
  }

  /**
   * Adds what was recorded to the store. On failure the increments go back into the buffer for
   * the next flush: series are few (the catalog bounds them), so a store outage costs memory
   * per series, not per event, and loses nothing this isolate lives to flush.
   */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.store.add(batch);
    } catch (error) {
      for (const [key, value] of batch) this.add(key, value);
      throw error;
    }
  }

  private add(key: string, value: number): void {
    this.pending.set(key, (this.pending.get(key) ?? 0) + value);
  }
}
