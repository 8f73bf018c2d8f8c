import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../workers/env";

const encoder = new TextEncoder();

function encodeEvent(entry: JournalEntry): Uint8Array {
  return encoder.encode(`id: ${entry.seq}\nevent: journal\ndata: ${JSON.stringify(entry)}\n\n`);
}

export interface JournalEntry {
  seq: number;
  stepId: string;
  status: string;
  /** Plain JSON (stored as text). */
  payload: unknown;
  at: number;
}

/**
 * One workflow execution. Every state change is appended to a SQLite journal before it is
 * acted on, so an evicted or redeployed object resumes from storage; an alarm wakes it for
 * timers (retries, approval expiry); clients follow progress as server-sent events. The
 * workflow engine is built on this journal.
 */
export class WorkflowExecution extends DurableObject<Env> {
  /** Open event streams; each gets every entry appended while it is connected. */
  private readonly listeners = new Set<WritableStreamDefaultWriter<Uint8Array>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(
        `create table if not exists journal (
           seq integer primary key autoincrement,
           step_id text not null,
           status text not null,
           payload text not null,
           at integer not null
         )`,
      );
    });
  }

  /** Appends one entry; returns its sequence number. */
  append(stepId: string, status: string, payload: unknown): number {
    const row = this.ctx.storage.sql
      .exec<{ seq: number }>(
        "insert into journal (step_id, status, payload, at) values (?, ?, ?, ?) returning seq",
        stepId,
        status,
        JSON.stringify(payload ?? null),
        Date.now(),
      )
      .one();
    this.broadcast({ seq: row.seq, stepId, status, payload: payload ?? null, at: Date.now() });
    return row.seq;
  }

  /**
   * Server-sent events: the journal so far, then each new entry as it is appended. A client
   * that reconnects with `Last-Event-ID` gets only what it missed.
   */
  override async fetch(request: Request): Promise<Response> {
    const after = Number(request.headers.get("last-event-id") ?? 0) || 0;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    for (const entry of this.journal()) if (entry.seq > after) void writer.write(encodeEvent(entry));
    this.listeners.add(writer);
    writer.closed.then(
      () => this.listeners.delete(writer),
      () => this.listeners.delete(writer),
    );
    return new Response(readable, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
    });
  }

  private broadcast(entry: JournalEntry): void {
    const bytes = encodeEvent(entry);
    for (const writer of this.listeners) {
      writer.write(bytes).catch(() => this.listeners.delete(writer));
    }
  }

  /** The journal in order. */
  journal(): JournalEntry[] {
    return this.ctx.storage.sql
      .exec<{ seq: number; step_id: string; status: string; payload: string; at: number }>(
        "select seq, step_id, status, payload, at from journal order by seq",
      )
      .toArray()
      .map((r) => ({
        seq: r.seq,
        stepId: r.step_id,
        status: r.status,
        payload: JSON.parse(r.payload),
        at: r.at,
      }));
  }

  /** Schedules a wake-up; the alarm journals it so the engine can act on it. */
  async wakeAt(epochMs: number): Promise<void> {
    await this.ctx.storage.setAlarm(epochMs);
  }

  override async alarm(): Promise<void> {
    this.append("$timer", "fired", { scheduledFor: Date.now() });
  }
}
