import { type JournalledEvent, SSE_HEARTBEAT, sseFrame } from "../workers/lib/sse";

/** How often attached streams get a keep-alive comment, unless the run asks for sooner. */
const HEARTBEAT_MS = 15_000;

interface Listener {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** The last write has not completed: the client has stopped reading. */
  stalled: boolean;
}

/**
 * An object's events (an agent run's, a workflow execution's), kept in its SQLite storage in
 * order and fanned out to attached streams. A client that reconnects with `Last-Event-ID`
 * replays what it missed from here. An event of type `done` ends every stream.
 */
export class EventJournal<E extends { type: string }> {
  /** Attached streams by listener id (the Worker names each, to report its client gone). */
  private readonly listeners = new Map<string, Listener>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly sql: SqlStorage,
    /** Called when the last attached stream goes away. */
    private readonly onDetached: () => void,
  ) {
    sql.exec(
      `create table if not exists events (
         seq integer primary key autoincrement,
         data text not null
       )`,
    );
  }

  get attached(): number {
    return this.listeners.size;
  }

  append(event: E): number {
    const { seq } = this.sql
      .exec<{ seq: number }>("insert into events (data) values (?) returning seq", JSON.stringify(event))
      .one();
    const frame = sseFrame({ seq, event });
    for (const listener of this.listeners.values()) this.write(listener, frame);
    if (event.type === "done")
      for (const listener of [...this.listeners.values()]) this.close(listener.writer);
    return seq;
  }

  since(after: number): JournalledEvent<E>[] {
    return this.sql
      .exec<{ seq: number; data: string }>("select seq, data from events where seq > ? order by seq", after)
      .toArray()
      .map((row) => ({ seq: row.seq, event: JSON.parse(row.data) as E }));
  }

  /**
   * An SSE response: every event after `after`, then live ones until `done`. A finished
   * object's stream ends after the replay.
   */
  stream(after: number, listenerId: string, heartbeatMs = HEARTBEAT_MS): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const missed = this.since(after);
    for (const entry of missed) void writer.write(sseFrame(entry)).catch(() => undefined);
    const finished = this.since(0).some((e) => e.event.type === "done");
    if (finished) {
      void writer.close().catch(() => undefined);
    } else {
      this.listeners.set(listenerId, { writer, stalled: false });
      writer.closed.then(
        () => this.detach(writer),
        () => this.detach(writer),
      );
      this.heartbeat ??= setInterval(() => this.beat(), Math.min(heartbeatMs, HEARTBEAT_MS));
    }
    return new Response(readable, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /**
   * A client that went away does not always close its stream here (a dropped connection may
   * only stop the reads), so a listener whose previous write is still pending a whole beat
   * later is treated as gone.
   */
  private beat(): void {
    for (const listener of [...this.listeners.values()]) {
      if (listener.stalled) this.detach(listener.writer);
      else this.write(listener, SSE_HEARTBEAT);
    }
  }

  private write(listener: Listener, bytes: Uint8Array): void {
    listener.stalled = true;
    listener.writer.write(bytes).then(
      () => {
        listener.stalled = false;
      },
      () => this.detach(listener.writer),
    );
  }

  /** The Worker saw its client go away (a closed connection may not reach this object otherwise). */
  detachListener(listenerId: string): void {
    const listener = this.listeners.get(listenerId);
    if (!listener) return;
    listener.writer.close().catch(() => undefined);
    this.detach(listener.writer);
  }

  private remove(writer: WritableStreamDefaultWriter<Uint8Array>): boolean {
    for (const [id, listener] of this.listeners) {
      if (listener.writer === writer) return this.listeners.delete(id);
    }
    return false;
  }

  private close(writer: WritableStreamDefaultWriter<Uint8Array>): void {
    this.remove(writer);
    writer.close().catch(() => undefined);
    this.stopHeartbeatIfIdle();
  }

  private detach(writer: WritableStreamDefaultWriter<Uint8Array>): void {
    if (!this.remove(writer)) return;
    this.stopHeartbeatIfIdle();
    if (this.listeners.size === 0) this.onDetached();
  }

  private stopHeartbeatIfIdle(): void {
    if (this.listeners.size > 0 || this.heartbeat === undefined) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
