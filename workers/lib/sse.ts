/** Server-sent events as Meridian's streams frame them (agent runs, workflow executions). */

export interface JournalledEvent<E extends { type: string }> {
  seq: number;
  event: E;
}

const encoder = new TextEncoder();

/** One SSE frame. The event name is the type; the data is the whole event as JSON. */
export function sseFrame<E extends { type: string }>({ seq, event }: JournalledEvent<E>): Uint8Array {
  return encoder.encode(`id: ${seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** A comment line: keeps proxies from closing an idle stream and reveals a gone client. */
export const SSE_HEARTBEAT = encoder.encode(": keep-alive\n\n");
