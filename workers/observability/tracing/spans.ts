import {
  type Context,
  context,
  type Span as OtelSpan,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { Attributes, Span, Telemetry } from "../../lib/telemetry";

export { SpanKind };

/** The instrumentation scope of the spans Meridian's own code starts. */
const TRACER_NAME = "meridian";

/** A W3C `traceparent`: version, trace id, parent span id, flags. */
export const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Set once this isolate has registered its tracer provider (sdk.ts). Until then every helper
 * here returns at its first line: with OTEL_EXPORTER_OTLP_ENDPOINT unset nothing registers,
 * so tracing costs one boolean test per call site.
 */
let registered = false;

/** Called by sdk.ts when the isolate's provider, context manager and propagator are in place. */
export function markTracingRegistered(): void {
  registered = true;
}

/** Whether this isolate traces at all: wrappers that cost something per call check it first. */
export function isTracingRegistered(): boolean {
  return registered;
}

const noopSpan: Span = { setAttributes() {}, recordError() {}, end() {} };

/** The active span of this invocation, if it is traced. */
function activeSpan(): OtelSpan | undefined {
  return registered ? trace.getActiveSpan() : undefined;
}

/**
 * Trace and span id of the active span, for log lines and error reports; undefined when the
 * invocation is not traced.
 */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = activeSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/**
 * The active span's W3C `traceparent`, for work that continues in another invocation (a queue
 * message, a workflow execution, an agent run): its spans then join this trace.
 *
 * @example
 * const spec = { ...fields, traceparent: currentTraceparent() };
 */
export function currentTraceparent(): string | undefined {
  if (!activeSpan()) return undefined;
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

function clean(attributes: Attributes | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

/** A PostgreSQL error's SQLSTATE (the driver sets `code`). */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Records an error on a span: its type and message, never its stack or the data it carries. A
 * database error records its SQLSTATE instead of its message, which quotes offending values.
 */
function recordError(span: OtelSpan, error: unknown): void {
  const name = error instanceof Error ? error.name : "Error";
  const code = (error as { code?: unknown } | null)?.code;
  const message =
    typeof code === "string" && SQLSTATE.test(code)
      ? `SQLSTATE ${code}`
      : error instanceof Error
        ? error.message
        : String(error);
  span.recordException({ name, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message: name });
}

function asSpan(span: OtelSpan): Span {
  return {
    setAttributes: (attributes) => span.setAttributes(clean(attributes)),
    recordError: (error) => recordError(span, error),
    end: () => span.end(),
  };
}

/**
 * The `startSpan` half of Telemetry: a child of the active span, or a no-op outside a traced
 * invocation (so no orphan traces appear for work nobody traced). The span is not made active;
 * use `childSpan` where nested work should hang below it.
 *
 * @example
 * const telemetry: Telemetry = { ...metrics, ...otelSpans() };
 */
export function otelSpans(): Pick<Telemetry, "startSpan"> {
  return {
    startSpan(name, attributes) {
      if (!activeSpan()) return noopSpan;
      return asSpan(trace.getTracer(TRACER_NAME).startSpan(name, { attributes: clean(attributes) }));
    },
  };
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
}

/** A span the caller ends, and a way to run work below it. */
export interface OpenSpan {
  span: Span;
  /** Runs `fn` with this span active, so spans `fn` starts are its children. */
  within<T>(fn: () => T): T;
}

/**
 * A child span of the active one that the caller ends itself (for work that outlives one call,
 * like a streamed response body); undefined outside a traced invocation.
 */
export function openChildSpan(name: string, options: SpanOptions): OpenSpan | undefined {
  if (!activeSpan()) return undefined;
  const parent = context.active();
  const span = startOtelSpan(name, options, parent);
  const active = trace.setSpan(parent, span);
  return { span: asSpan(span), within: (fn) => context.with(active, fn) };
}

/**
 * Runs `fn` in a child span of the active one (so spans it starts hang below), ending it when
 * `fn` settles and recording a thrown error. Outside a traced invocation `fn` just runs.
 *
 * @example
 * const rows = await childSpan("tool search", { attributes: { "meridian.tool.name": name } }, () => run());
 */
export function childSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!activeSpan()) return fn(noopSpan);
  return runInSpan(name, options, context.active(), fn);
}

/**
 * Runs `fn` in the first span of a piece of work that another invocation asked for: a child
 * of `traceparent` (the request that queued a job, started an execution or a run), or the root
 * of a trace of its own when there is none. Callers check that tracing is on for the work
 * (`tracingSettings`) and registered (`loadTracing`).
 */
export function entrySpan<T>(
  name: string,
  options: SpanOptions & { traceparent?: string | undefined },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!registered) return fn(noopSpan);
  return runInSpan(name, options, remoteParent(options.traceparent), fn);
}

/** The context of a `traceparent` from elsewhere; the root context when there is none (or it is malformed). */
function remoteParent(traceparent: string | undefined): Context {
  if (!traceparent || !TRACEPARENT.test(traceparent)) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** A span of Meridian's tracer below `parent`, internal unless `options.kind` says otherwise. */
function startOtelSpan(name: string, options: SpanOptions, parent: Context) {
  return trace
    .getTracer(TRACER_NAME)
    .startSpan(
      name,
      { kind: options.kind ?? SpanKind.INTERNAL, attributes: clean(options.attributes) },
      parent,
    );
}

async function runInSpan<T>(
  name: string,
  options: SpanOptions,
  parent: Context,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = startOtelSpan(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(asSpan(span)));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Names the request's span after its route and tags it with the request id, the tenant and the
 * route (the span otel-cf-workers opens for the request is the active one in middleware).
 *
 * @example
 * annotateRequestSpan({ method: "GET", route: "/v1/agents/:id", requestId, tenantId });
 */
export function annotateRequestSpan(fields: {
  method: string;
  route: string;
  requestId: string;
  tenantId?: string | undefined;
}): void {
  const span = activeSpan();
  if (!span) return;
  span.updateName(`${fields.method} ${fields.route}`);
  span.setAttributes(
    clean({
      "http.route": fields.route,
      "meridian.request_id": fields.requestId,
      "meridian.tenant_id": fields.tenantId,
    }),
  );
}

/** Tags the active span (ids and figures only, never contents). */
export function tagActiveSpan(attributes: Attributes): void {
  activeSpan()?.setAttributes(clean(attributes));
}
