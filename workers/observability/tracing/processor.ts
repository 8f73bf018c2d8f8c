/** What the processor touches of an ended span (the package's Span class). */
interface EndedSpan {
  attributes: Record<string, unknown>;
}

/** The exporter's callback API (OTLPExporterBase of @opentelemetry/otlp-exporter-base). */
interface SpanExporter {
  export(spans: EndedSpan[], done: (result: { code: number; error?: Error }) => void): void;
}

/**
 * Spans kept for export at most. A collector that is down must not grow an isolate's memory:
 * past this, new spans are dropped until a flush gets through.
 */
const MAX_BUFFERED_SPANS = 5_000;

/** URL attributes whose query strings are dropped (they can carry tokens, search text or ids). */
const URL_ATTRIBUTES = ["http.url", "url.full"];
/** Attributes that are nothing but a query string. */
const QUERY_ATTRIBUTES = ["url.query"];

/**
 * Buffers ended spans for the isolate and exports them on `forceFlush` (after each request,
 * queue batch and Durable Object step). otel-cf-workers 0.9.1 ships a processor of this shape
 * whose flush never settles when nothing is buffered, which leaves a `waitUntil` hanging
 * whenever a concurrent invocation exported this one's spans first; this one resolves.
 */
export class FlushingSpanProcessor {
  private spans: EndedSpan[] = [];

  constructor(private readonly exporter: SpanExporter) {}

  onStart(): void {}

  onEnd(span: EndedSpan): void {
    if (this.spans.length >= MAX_BUFFERED_SPANS) return;
    scrub(span);
    this.spans.push(span);
  }

  forceFlush(): Promise<void> {
    const batch = this.spans.splice(0);
    if (batch.length === 0) return Promise.resolve();
    // A failed export loses that batch: retrying would hold the invocation open for a collector
    // that is down, and traces are a sample of behaviour, not a record.
    return new Promise((resolve) => this.exporter.export(batch, () => resolve()));
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }
}

/** Drops what must not leave the Worker from the spans the package fills in on its own. */
function scrub(span: EndedSpan): void {
  for (const key of URL_ATTRIBUTES) {
    const value = span.attributes[key];
    if (typeof value !== "string") continue;
    const at = value.indexOf("?");
    if (at >= 0) span.attributes[key] = value.slice(0, at);
  }
  for (const key of QUERY_ATTRIBUTES) delete span.attributes[key];
}
