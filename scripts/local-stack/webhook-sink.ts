import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody, sendJson, serveLocal } from "./http-server";

export interface WebhookSink {
  /** Base URL, e.g. `http://127.0.0.1:41234`; webhooks go to `<url>/<any path>`. */
  url: string;
  close(): Promise<void>;
}

/** What `GET /__received` returns for each request, oldest first. */
export interface ReceivedWebhook {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The raw body, exactly as received (signatures are computed over it). */
  body: string;
  /** The status the sink answered with. */
  status: number;
}

/** Requests kept per path, so a long `npm run dev` session doesn't grow without end. */
const MAX_RECORDED = 200;

const json = sendJson;

/**
 * A recording webhook receiver for tests and local development. Any request to a path that does
 * not start with `/__` is recorded and answered with the next scripted status for that path
 * (200 once the script runs out). Tests give each case a path of its own, so nothing is reset.
 *
 * - `POST /__status` `{ "path": "/hooks/abc", "statuses": [500, 200], "delayMs"?: 300 }` scripts the
 *   answers, and how long each waits before answering (to hold an attempt in flight).
 * - `GET /__received?path=/hooks/abc` → `{ "received": ReceivedWebhook[] }`.
 *
 * @example
 * const sink = await startWebhookSink();
 * await fetch(`${sink.url}/__status`, { method: "POST", body: JSON.stringify({ path: "/a", statuses: [500] }) });
 * await sink.close();
 */
export async function startWebhookSink(opts: { port?: number; host?: string } = {}): Promise<WebhookSink> {
  const scripts = new Map<string, { statuses: number[]; delayMs: number }>();
  const received = new Map<string, ReceivedWebhook[]>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sink.local");
    const body = await readBody(req);
    if (url.pathname === "/__status" && req.method === "POST") {
      const script = JSON.parse(body) as { path?: unknown; statuses?: unknown; delayMs?: unknown };
      const { statuses, delayMs = 0 } = script;
      if (
        typeof script.path !== "string" ||
        !Array.isArray(statuses) ||
        !statuses.every((s) => Number.isInteger(s) && s >= 200 && s <= 599) ||
        typeof delayMs !== "number" ||
        delayMs < 0 ||
        delayMs > 30_000
      ) {
        return json(res, 400, {
          error: 'expected { "path": string, "statuses": number[] (200-599), "delayMs"?: 0-30000 }',
        });
      }
      scripts.set(script.path, { statuses: statuses as number[], delayMs });
      return json(res, 200, { path: script.path, statuses, delayMs });
    }
    if (url.pathname === "/__received" && req.method === "GET") {
      const path = url.searchParams.get("path");
      const list = path === null ? [...received.values()].flat() : (received.get(path) ?? []);
      return json(res, 200, { received: list });
    }
    const script = scripts.get(url.pathname);
    const status = script?.statuses.shift() ?? 200;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const list = received.get(url.pathname) ?? [];
    list.push({ method: req.method ?? "GET", path: url.pathname, headers, body, status });
    if (list.length > MAX_RECORDED) list.shift();
    received.set(url.pathname, list);
    if (script?.delayMs) await new Promise((resolve) => setTimeout(resolve, script.delayMs));
    return json(res, status, status < 300 ? { ok: true } : { error: `scripted ${status}` });
  };

  return serveLocal(handle, (res, message) => json(res, 500, { error: message }), opts);
}
