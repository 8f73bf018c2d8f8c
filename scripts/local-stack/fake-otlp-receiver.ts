import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gunzipSync } from "node:zlib";
import { sendJson, serveLocal } from "./http-server";

export interface FakeOtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:41234`: the value of OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  close(): Promise<void>;
}

type AttributeValue = string | number | boolean | null | AttributeValue[];

/** One received span, flattened from OTLP/JSON (what `GET /__spans` returns). */
export interface ReceivedSpan {
  /** Lower-case hex, 32 characters. */
  traceId: string;
  /** Lower-case hex, 16 characters. */
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's numbers: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, AttributeValue>;
  status: { code: number; message?: string };
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  /** The span's resource attributes (`service.name`, ...). */
  resource: Record<string, AttributeValue>;
  /** The instrumentation scope's name. */
  scope: string;
}

/** One export request as received (headers only; its spans are in `/__spans`). */
export interface ReceivedExport {
  /** Lower-case header names. */
  headers: Record<string, string>;
  spans: number;
}

/** Spans kept, oldest dropped first, so a long `npm run dev` session doesn't grow without end. */
const MAX_SPANS = 50_000;
const MAX_EXPORTS = 1_000;

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: number | string;
  endTimeUnixNano?: number | string;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
  events?: { name?: string; attributes?: OtlpKeyValue[] }[];
}
interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
    /** The name before OTLP 0.19 (some exporters still send it). */
    instrumentationLibrarySpans?: { instrumentationLibrary?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

function value(v: OtlpAnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/** OTLP/JSON ids are hex; some exporters send base64 (protobuf's JSON mapping of bytes). */
function hexId(id: string | undefined, length: number): string {
  if (!id) return "";
  if (new RegExp(`^[0-9a-fA-F]{${length}}$`).test(id)) return id.toLowerCase();
  return Buffer.from(id, "base64").toString("hex");
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
}

/**
 * A recording OpenTelemetry collector for tests and local development, speaking OTLP/HTTP:
 * `POST /v1/traces` with an OTLP/JSON `ExportTraceServiceRequest`, which is what
 * @microlabs/otel-cf-workers' exporter sends (`content-type: application/json`, hex ids).
 * OTLP/protobuf is answered 415: nothing of ours sends it. Inspection:
 *
 * - `GET /__spans?traceId=&name=&attr=key=value` → `{ "spans": ReceivedSpan[] }`, oldest first;
 *   every given filter must match (`attr` may repeat).
 * - `GET /__exports` → `{ "exports": ReceivedExport[] }` (the headers of each export request).
 *
 * @example
 * const otlp = await startFakeOtlpReceiver();
 * // OTEL_EXPORTER_OTLP_ENDPOINT = otlp.url
 * const { spans } = await (await fetch(`${otlp.url}/__spans?traceId=${id}`)).json();
 */
export async function startFakeOtlpReceiver(
  opts: { port?: number; host?: string } = {},
): Promise<FakeOtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const exports: ReceivedExport[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://otlp.local");
    if (url.pathname === "/v1/traces" && req.method === "POST") {
      const type = req.headers["content-type"] ?? "";
      if (!type.startsWith("application/json")) {
        await readBytes(req);
        return sendJson(res, 415, { error: "this receiver reads OTLP/JSON (application/json) only" });
      }
      const request = JSON.parse((await readBytes(req)).toString("utf8")) as ExportTraceServiceRequest;
      let count = 0;
      for (const resourceSpans of request.resourceSpans ?? []) {
        const resource = attributes(resourceSpans.resource?.attributes);
        const scopes = [
          ...(resourceSpans.scopeSpans ?? []).map((s) => ({ name: s.scope?.name ?? "", spans: s.spans })),
          ...(resourceSpans.instrumentationLibrarySpans ?? []).map((s) => ({
            name: s.instrumentationLibrary?.name ?? "",
            spans: s.spans,
          })),
        ];
        for (const scope of scopes) {
          for (const span of scope.spans ?? []) {
            count++;
            spans.push({
              traceId: hexId(span.traceId, 32),
              spanId: hexId(span.spanId, 16),
              parentSpanId: hexId(span.parentSpanId, 16),
              name: span.name ?? "",
              kind: span.kind ?? 0,
              startTimeUnixNano: String(span.startTimeUnixNano ?? "0"),
              endTimeUnixNano: String(span.endTimeUnixNano ?? "0"),
              attributes: attributes(span.attributes),
              status: { code: span.status?.code ?? 0, message: span.status?.message },
              events: (span.events ?? []).map((e) => ({
                name: e.name ?? "",
                attributes: attributes(e.attributes),
              })),
              resource,
              scope: scope.name,
            });
          }
        }
      }
      if (spans.length > MAX_SPANS) spans.splice(0, spans.length - MAX_SPANS);
      const headers: Record<string, string> = {};
      for (const [name, v] of Object.entries(req.headers)) {
        if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(", ") : v;
      }
      exports.push({ headers, spans: count });
      if (exports.length > MAX_EXPORTS) exports.shift();
      return sendJson(res, 200, { partialSuccess: {} });
    }
    if (url.pathname === "/__spans" && req.method === "GET") {
      const traceId = url.searchParams.get("traceId");
      const name = url.searchParams.get("name");
      const attrs = url.searchParams.getAll("attr").map((pair) => {
        const at = pair.indexOf("=");
        return [pair.slice(0, at), pair.slice(at + 1)] as const;
      });
      const matched = spans.filter(
        (s) =>
          (traceId === null || s.traceId === traceId) &&
          (name === null || s.name === name) &&
          attrs.every(([key, v]) => s.attributes[key] !== undefined && String(s.attributes[key]) === v),
      );
      return sendJson(res, 200, { spans: matched });
    }
    if (url.pathname === "/__exports" && req.method === "GET") return sendJson(res, 200, { exports });
    return sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  };

  return serveLocal(handle, (res, message) => sendJson(res, 500, { error: message }), opts);
}
