/** Attributes on a metric or span: low-cardinality ids and figures only. */
export type Attributes = Record<string, string | number | boolean | undefined>;

export interface Span {
  setAttributes(attributes: Attributes): void;
  recordError(error: unknown): void;
  end(): void;
}

/**
 * What every feature emits through. The default does nothing; the observability work wires
 * exporters (OTLP, Analytics Engine) behind this interface without touching features.
 */
export interface Telemetry {
  counter(name: string, value?: number, attributes?: Attributes): void;
  histogram(name: string, value: number, attributes?: Attributes): void;
  startSpan(name: string, attributes?: Attributes): Span;
}

const noopSpan: Span = { setAttributes() {}, recordError() {}, end() {} };

export const noopTelemetry: Telemetry = {
  counter() {},
  histogram() {},
  startSpan: () => noopSpan,
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
