import { exports } from "cloudflare:workers";
import { randomIp } from "./api";

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/**
 * A server-sent event stream from the Worker, read event by event. `close()` cancels the body,
 * which is what a client going away looks like to the server.
 *
 * @example
 * const stream = await openEvents("POST", `/v1/agents/${id}/execute`, { token, body: { message, stream: true } });
 * const events = await stream.until("done");
 */
export async function openEvents(
  method: "GET" | "POST",
  path: string,
  opts: { token: string; body?: unknown; headers?: Record<string, string> },
) {
  const headers = new Headers(opts.headers);
  headers.set("authorization", `Bearer ${opts.token}`);
  headers.set("accept", "text/event-stream");
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomIp());
  if (opts.body !== undefined) headers.set("content-type", "application/json");
  const res = await exports.default.fetch(
    new Request(`https://api.meridian.test${path}`, {
      method,
      headers,
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    }),
  );
  if (!res.body) throw new Error(`no body (status ${res.status})`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const seen: SseEvent[] = [];

  /** The next event, or undefined when the stream ended. Comments (keep-alives) are skipped. */
  async function next(): Promise<SseEvent | undefined> {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of frame.split("\n")) {
          if (line.startsWith(":") || !line.includes(":")) continue;
          const at = line.indexOf(":");
          fields.set(line.slice(0, at), line.slice(at + 1).trimStart());
        }
        if (!fields.has("data")) continue;
        const event = {
          id: Number(fields.get("id")),
          event: fields.get("event") ?? "message",
          data: JSON.parse(fields.get("data") ?? "null") as Record<string, unknown>,
        };
        seen.push(event);
        return event;
      }
      const { value, done } = await reader.read();
      if (done) return undefined;
      buffer += value;
    }
  }

  return {
    status: res.status,
    headers: res.headers,
    seen,
    next,
    /** Reads until an event of `type` (inclusive); throws if the stream ends first. */
    async until(type: string): Promise<SseEvent[]> {
      const from = seen.length;
      for (;;) {
        const event = await next();
        if (!event) throw new Error(`stream ended before "${type}": ${seen.map((e) => e.event).join(", ")}`);
        if (event.event === type) return seen.slice(from);
      }
    },
    /** Every remaining event until the stream ends. */
    async rest(): Promise<SseEvent[]> {
      const from = seen.length;
      while (await next());
      return seen.slice(from);
    },
    async close(): Promise<void> {
      await reader.cancel().catch(() => undefined);
    },
  };
}
