import type {
  CounterName,
  counters,
  HistogramName,
  histograms,
  LabelsOf,
} from "../observability/metrics/catalog";

/** Attributes on a span: low-cardinality ids and figures only, never contents or secrets. */
export type Attributes = Record<string, string | number | boolean | undefined>;

export interface Span {
  setAttributes(attributes: Attributes): void;
  recordError(error: unknown): void;
  end(): void;
}

/**
 * What every feature emits through. Metric names and their labels come from the catalog
 * (workers/observability/metrics/catalog.ts), so a label set cannot grow by accident.
 */
export interface Telemetry {
  counter<N extends CounterName>(name: N, value: number, labels: LabelsOf<(typeof counters)[N]>): void;
  histogram<N extends HistogramName>(name: N, value: number, labels: LabelsOf<(typeof histograms)[N]>): void;
  startSpan(name: string, attributes?: Attributes): Span;
  /** Sends what was recorded to where all isolates' figures are summed. Never throws. */
  flush(): Promise<void>;
}

const noopSpan: Span = { setAttributes() {}, recordError() {}, end() {} };

export const noopTelemetry: Telemetry = {
  counter() {},
  histogram() {},
  startSpan: () => noopSpan,
  flush: async () => {},
};

/**
 * Runs `fn` inside a span, ending it and recording a thrown error.
 *
 * @example
 * const row = await traced(telemetry, "db.agents.get", () => loadAgent(id));
 */
export async function traced<T>(
  telemetry: Telemetry,
  name: string,
  fn: (span: Span) => Promise<T>,
  attributes?: Attributes,
): Promise<T> {
  const span = telemetry.startSpan(name, attributes);
  try {
    return await fn(span);
  } catch (error) {
    span.recordError(error);
    throw error;
  } finally {
    span.end();
  }
}
