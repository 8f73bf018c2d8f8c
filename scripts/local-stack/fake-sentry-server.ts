import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gunzipSync } from "node:zlib";
import { sendJson, serveLocal } from "./http-server";

export interface FakeSentryServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** A DSN for `project` on this server: `http://<key>@127.0.0.1:<port>/<project>`. */
  dsn(project?: number): string;
  close(): Promise<void>;
}

/** The public key every DSN of the fake carries; envelopes with another key are refused (403). */
export const FAKE_SENTRY_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/** One item of a received envelope (what `GET /__events` returns for each event item). */
export interface ReceivedSentryItem {
  project: string;
  /** The item header's `type`: `event`, `transaction`, `session`, `client_report`, ... */
  type: string;
  /** The envelope header (`event_id`, `sent_at`, `sdk`, `dsn`). */
  envelope: Record<string, unknown>;
  /** The item's payload, parsed when it is JSON. */
  payload: unknown;
}

const MAX_ITEMS = 2_000;

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
}

/** The line starting at `at` (without its newline) and where the next one starts. */
function line(bytes: Buffer, at: number): [Buffer, number] {
  const end = bytes.indexOf(0x0a, at);
  return end < 0 ? [bytes.subarray(at), bytes.length] : [bytes.subarray(at, end), end + 1];
}

function json(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return bytes.toString("utf8");
  }
}

/**
 * Sentry's envelope format: a header line, then items, each an item-header line (`type`, and
 * `length` in bytes when the payload may contain newlines) followed by its payload.
 *
 * @throws Error when the header is not JSON.
 */
export function parseEnvelope(bytes: Buffer): {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: unknown }[];
} {
  const [first, afterHeader] = line(bytes, 0);
  const header = JSON.parse(first.toString("utf8")) as Record<string, unknown>;
  const items: { header: Record<string, unknown>; payload: unknown }[] = [];
  let at = afterHeader;
  while (at < bytes.length) {
    const [itemLine, next] = line(bytes, at);
    at = next;
    if (itemLine.length === 0) continue;
    const itemHeader = JSON.parse(itemLine.toString("utf8")) as Record<string, unknown>;
    let payload: Buffer;
    if (typeof itemHeader.length === "number") {
      payload = bytes.subarray(at, at + itemHeader.length);
      at += itemHeader.length;
      if (bytes[at] === 0x0a) at++;
    } else {
      [payload, at] = line(bytes, at);
    }
    items.push({ header: itemHeader, payload: json(payload) });
  }
  return { header, items };
}

/** The public key of a request: `sentry_key` in the query, or in the `X-Sentry-Auth` header. */
function publicKey(req: IncomingMessage, url: URL): string | null {
  const fromQuery = url.searchParams.get("sentry_key");
  if (fromQuery) return fromQuery;
  const auth = req.headers["x-sentry-auth"];
  const match = typeof auth === "string" ? /sentry_key=([^,\s]+)/.exec(auth) : null;
  return match?.[1] ?? null;
}

/**
 * A recording Sentry for tests and local development, speaking the envelope protocol the SDKs
 * use: `POST /api/<project>/envelope/` with the DSN's public key (query `sentry_key` or the
 * `X-Sentry-Auth` header), answered `{ "id": <event_id> }` as Sentry does. Inspection:
 *
 * - `GET /__events?tag=name:value&type=event` → `{ "events": ReceivedSentryItem[] }`, oldest
 *   first; `type` defaults to `event`, `tag` may repeat and every one must match.
 *
 * @example
 * const sentry = await startFakeSentryServer();
 * // SENTRY_DSN = sentry.dsn()
 * const { events } = await (await fetch(`${sentry.url}/__events?tag=request_id:${id}`)).json();
 */
export async function startFakeSentryServer(
  opts: { port?: number; host?: string } = {},
): Promise<FakeSentryServer> {
  const received: ReceivedSentryItem[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sentry.local");
    const envelopePath = /^\/api\/(\d+)\/envelope\/?$/.exec(url.pathname);
    if (envelopePath && req.method === "POST") {
      const body = await readBytes(req);
      if (publicKey(req, url) !== FAKE_SENTRY_KEY) {
        return sendJson(res, 403, { detail: "invalid api key" });
      }
      let envelope: ReturnType<typeof parseEnvelope>;
      try {
        envelope = parseEnvelope(body);
      } catch {
        return sendJson(res, 400, { detail: "invalid envelope" });
      }
      for (const item of envelope.items) {
        received.push({
          project: envelopePath[1] as string,
          type: String(item.header.type ?? ""),
          envelope: envelope.header,
          payload: item.payload,
        });
      }
      if (received.length > MAX_ITEMS) received.splice(0, received.length - MAX_ITEMS);
      return sendJson(res, 200, { id: envelope.header.event_id ?? null });
    }
    if (url.pathname === "/__events" && req.method === "GET") {
      const type = url.searchParams.get("type") ?? "event";
      const tags = url.searchParams.getAll("tag").map((pair) => {
        const at = pair.indexOf(":");
        return [pair.slice(0, at), pair.slice(at + 1)] as const;
      });
      const events = received.filter((item) => {
        if (item.type !== type) return false;
        const eventTags = (item.payload as { tags?: Record<string, unknown> } | null)?.tags ?? {};
        return tags.every(([name, v]) => String(eventTags[name]) === v);
      });
      return sendJson(res, 200, { events });
    }
    return sendJson(res, 404, { detail: `no route ${req.method} ${url.pathname}` });
  };

  const server = await serveLocal(handle, (res, message) => sendJson(res, 500, { detail: message }), opts);
  const { host } = new URL(server.url);
  return { ...server, dsn: (project = 1) => `http://${FAKE_SENTRY_KEY}@${host}/${project}` };
}
