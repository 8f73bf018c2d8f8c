/**
 * Session pooling for the local Neon relay (neon-ws-relay.ts), as PgBouncer's session mode: the
 * wire-protocol bookkeeping that tells whether a client left its PostgreSQL connection clean, and
 * the pool that resets such connections and hands them to the next client.
 */
import type { Socket } from "node:net";

/** How long the reset of a connection going back to the pool may take before it is cut instead. */
const RESET_TIMEOUT_MS = 5000;
/** Idle connections kept for one startup packet (a burst of concurrent requests); more are closed. */
const MAX_IDLE_PER_KEY = 16;
/** Idle connections kept in all, so the pool stays well inside a small `max_connections`. */
const MAX_IDLE = 32;
/** An idle connection nobody took for this long is closed. */
const IDLE_TIMEOUT_MS = 30_000;

const byte = (letter: string) => letter.charCodeAt(0);
// Client messages.
const TERMINATE = byte("X");
/** Each is answered by exactly one ReadyForQuery: Query, Sync, FunctionCall. */
const SYNC_POINTS = new Set([byte("Q"), byte("S"), byte("F")]);
/** CopyData, CopyDone, CopyFail: part of a Query's COPY, and ignored by PostgreSQL outside one. */
const COPY_IN = new Set([byte("d"), byte("c"), byte("f")]);
// Server messages.
const AUTHENTICATION = byte("R");
const READY_FOR_QUERY = byte("Z");
const COMMAND_COMPLETE = byte("C");
const ERROR_RESPONSE = byte("E");
/** Sent at any time without changing the session's state: NoticeResponse, NotificationResponse, ParameterStatus. */
const ASYNC = new Set([byte("N"), byte("A"), byte("S")]);
/** Allowed between AuthenticationOk and the first ReadyForQuery: ParameterStatus, BackendKeyData, NoticeResponse. */
const HANDSHAKE = new Set([byte("S"), byte("K"), byte("N")]);
/** ReadyForQuery's status outside a transaction. */
const IDLE = byte("I");

/** A simple-protocol Query message. */
function query(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`, "utf8");
  const header = Buffer.alloc(5);
  header.write("Q", 0, "latin1");
  header.writeInt32BE(text.length + 4, 1);
  return Buffer.concat([header, text]);
}

const ROLLBACK = query("ROLLBACK");
const DISCARD_ALL = query("DISCARD ALL");

/**
 * Follows wire-protocol message boundaries (a type byte, then an int32 length that counts itself)
 * across chunks, without copying bodies, for a relay that forwards the chunks untouched.
 */
class MessageScanner {
  /** The type, the length and up to 4 bytes of body: enough for AuthenticationOk and ReadyForQuery. */
  readonly #head = Buffer.alloc(9);
  #headLength = 0;
  #headWanted = 5;
  #bodyLeft = 0;
  /** A length below 4 came: not the protocol this expects, so nothing more is scanned. */
  broken = false;

  /** A message has begun and not ended. */
  get partial(): boolean {
    return this.#headLength > 0;
  }

  /**
   * Calls `onMessage` for every message that ends in `chunk`, with its head (valid during the
   * call only) and the offset in `chunk` just past its end.
   */
  feed(chunk: Buffer, onMessage: (head: Buffer, end: number) => void): void {
    let offset = 0;
    while (offset < chunk.length && !this.broken) {
      if (this.#headLength < this.#headWanted) {
        const n = Math.min(this.#headWanted - this.#headLength, chunk.length - offset);
        chunk.copy(this.#head, this.#headLength, offset, offset + n);
        this.#headLength += n;
        offset += n;
        if (this.#headLength === 5) {
          const length = this.#head.readInt32BE(1);
          if (length < 4) {
            this.broken = true;
            return;
          }
          this.#headWanted = Math.min(this.#head.length, 1 + length);
          this.#bodyLeft = 1 + length - this.#headWanted;
        }
      } else {
        const n = Math.min(this.#bodyLeft, chunk.length - offset);
        this.#bodyLeft -= n;
        offset += n;
      }
      if (this.#headLength >= 5 && this.#headLength === this.#headWanted && this.#bodyLeft === 0) {
        onMessage(this.#head.subarray(0, this.#headLength), offset);
        this.#headLength = 0;
        this.#headWanted = 5;
      }
    }
  }
}

/**
 * What one client has done with a poolable connection, to tell whether the connection can be
 * handed on when the client leaves: its handshake needed no password, every Query, Sync and
 * FunctionCall was answered by its ReadyForQuery (or by an ErrorResponse, after which only the
 * ReadyForQuery can follow), the client sent nothing since, and no message is half-way in either
 * direction. Anything the scan does not understand makes it `opaque`: relayed as before, closed
 * at the end.
 */
export class Session {
  readonly key: string;
  /** From AuthenticationOk through the first ReadyForQuery: what the next client is sent. */
  handshake: Buffer = Buffer.alloc(0);
  /** The last ReadyForQuery's status; undefined while PostgreSQL is busy or owes one. */
  status: number | undefined;
  #phase: "handshake" | "session" | "opaque";
  /** The handshake's chunks so far. */
  readonly #recorded: Buffer[] = [];
  /** Whether the first message was AuthenticationOk; undefined until it came. */
  #authenticated: boolean | undefined;
  /** ReadyForQuery messages PostgreSQL still owes. */
  #owed = 0;
  /** The last message from PostgreSQL was an ErrorResponse. */
  #failed = false;
  /** The client sent something since its last Query/Sync/FunctionCall (a Parse without Sync). */
  #dirty = false;
  readonly #client = new MessageScanner();
  readonly #server = new MessageScanner();

  /** With the `handshake` of a pooled connection, which is idle; without, a new one. */
  constructor(key: string, handshake?: Buffer) {
    this.key = key;
    if (handshake) {
      this.handshake = handshake;
      this.status = IDLE;
      this.#authenticated = true;
      this.#phase = "session";
    } else this.#phase = "handshake";
  }

  get reusable(): boolean {
    return (
      this.#phase === "session" &&
      // A client that leaves as soon as its query failed (the driver rejects on the ErrorResponse)
      // often beats the ReadyForQuery that PostgreSQL sends right after it.
      (this.#owed === 0 ? this.status !== undefined : this.#owed === 1 && this.#failed) &&
      !this.#dirty &&
      !this.#client.partial &&
      !this.#server.partial &&
      !this.#client.broken &&
      !this.#server.broken
    );
  }

  fromServer(chunk: Buffer): void {
    if (this.#phase === "opaque") return;
    const recording = this.#phase === "handshake";
    this.#server.feed(chunk, (head, end) => {
      const type = head[0] as number;
      if (this.#phase === "handshake") {
        if (this.#authenticated === undefined) {
          // Only AuthenticationOk first (no password asked) makes a connection poolable.
          this.#authenticated =
            type === AUTHENTICATION && head.readInt32BE(1) === 8 && head.readInt32BE(5) === 0;
          if (!this.#authenticated) this.#phase = "opaque";
        } else if (type === READY_FOR_QUERY) {
          this.handshake = Buffer.concat([...this.#recorded, chunk.subarray(0, end)]);
          this.#recorded.length = 0;
          this.status = head[5];
          this.#phase = "session";
        } else if (!HANDSHAKE.has(type)) this.#phase = "opaque";
      } else if (this.#phase === "session") {
        if (type === READY_FOR_QUERY) {
          if (this.#owed === 0)
            this.#phase = "opaque"; // one more than asked for: lost track
          else this.#owed--;
          this.status = head[5];
        } else if (!ASYNC.has(type)) this.status = undefined;
        if (!ASYNC.has(type)) this.#failed = type === ERROR_RESPONSE;
      }
    });
    if (recording && this.#phase === "handshake") this.#recorded.push(chunk);
  }

  /** Scans what the client sent; returns where a Terminate message starts in `chunk`, or -1. */
  fromClient(chunk: Buffer): number {
    if (this.#phase === "handshake") this.#phase = "opaque"; // nothing is expected before ReadyForQuery
    if (this.#phase === "opaque") return -1;
    let terminateAt = -1;
    let lost = false;
    this.#client.feed(chunk, (head, end) => {
      const type = head[0] as number;
      const start = end - 1 - head.readInt32BE(1);
      // Something after the Terminate, or a Terminate begun in an earlier chunk: give up.
      if (terminateAt >= 0 || (type === TERMINATE && start < 0)) lost = true;
      else if (type === TERMINATE) terminateAt = start;
      else if (SYNC_POINTS.has(type)) {
        this.#owed++;
        this.#dirty = false;
      } else if (!COPY_IN.has(type)) this.#dirty = true;
    });
    if (!lost) return terminateAt;
    this.#phase = "opaque";
    return -1;
  }
}

interface Idle {
  key: string;
  socket: Socket;
  handshake: Buffer;
  /** Closes the connection and forgets it. */
  drop(): void;
  /** Stops watching it, for a client to take it. */
  wake(): void;
}

/**
 * Connections whose clients left between queries, by startup packet: reset, then kept idle for
 * the next client with the same packet, the most recently used first (the others time out).
 */
export class BackendPool {
  readonly #byKey = new Map<string, Idle[]>();
  /** Every idle connection, the oldest first. */
  readonly #all = new Set<Idle>();
  #closed = false;

  get size(): number {
    return this.#all.size;
  }

  take(key: string): Idle | undefined {
    const idle = this.#byKey.get(key)?.at(-1);
    if (!idle) return undefined;
    this.#forget(idle);
    idle.wake();
    return idle;
  }

  /**
   * Resets a connection whose last ReadyForQuery said `status` (undefined: the ReadyForQuery
   * after an ErrorResponse is still to come), then keeps it idle; a reset that fails in any way
   * (an error, an unexpected message, no answer) closes it instead.
   */
  release(socket: Socket, key: string, handshake: Buffer, status: number | undefined): void {
    if (this.#closed || socket.destroyed) {
      socket.destroy();
      return;
    }
    // A transaction the client left open (Meridian leaves read-only ones for end() to drop) ends
    // first: DISCARD ALL refuses to run inside one, or inside a multi-statement Query. With the
    // status still to come, ROLLBACK just in case (outside a transaction it only warns).
    const queries = status === IDLE ? [DISCARD_ALL] : [ROLLBACK, DISCARD_ALL];
    /** The owed ReadyForQuery, whatever its status, comes before the answers to the reset. */
    let owed = status === undefined ? 1 : 0;
    const scanner = new MessageScanner();
    let answered = 0;
    const fail = () => {
      stop();
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      let clean = true;
      scanner.feed(chunk, (head) => {
        const type = head[0] as number;
        if (answered === queries.length) clean = false;
        else if (type === READY_FOR_QUERY && owed > 0) owed--;
        else if (type === READY_FOR_QUERY && head[5] === IDLE) answered++;
        else if (type !== COMMAND_COMPLETE && !ASYNC.has(type)) clean = false;
      });
      if (!clean || scanner.broken) fail();
      else if (answered === queries.length && !scanner.partial) {
        stop();
        this.#park(socket, key, handshake);
      }
    };
    const timer = setTimeout(fail, RESET_TIMEOUT_MS);
    timer.unref();
    const stop = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", fail);
    };
    socket.on("data", onData);
    socket.on("close", fail);
    socket.resume(); // a client's back-pressure may have paused it
    socket.write(Buffer.concat(queries));
  }

  /** Closes every idle connection and pools nothing more. */
  close(): void {
    this.#closed = true;
    for (const idle of this.#all) idle.drop();
  }

  #park(socket: Socket, key: string, handshake: Buffer): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const drop = () => {
      this.#forget(idle);
      wake();
      socket.destroy();
    };
    const wake = () => {
      clearTimeout(timer);
      socket.off("data", drop);
      socket.off("close", drop);
      socket.ref();
    };
    const idle: Idle = { key, socket, handshake, drop, wake };
    const timer = setTimeout(drop, IDLE_TIMEOUT_MS);
    timer.unref();
    // PostgreSQL says nothing to an idle connection unless it is ending it (pg_terminate_backend,
    // idle_session_timeout, shutdown): then the FATAL arrives, and the connection is dropped.
    socket.on("data", drop);
    socket.on("close", drop);
    // Idle connections must not keep a process alive that forgot to close the relay.
    socket.unref();
    const list = this.#byKey.get(key) ?? [];
    this.#byKey.set(key, list);
    list.push(idle);
    this.#all.add(idle);
    if (list.length > MAX_IDLE_PER_KEY) list[0]?.drop();
    if (this.#all.size > MAX_IDLE) this.#all.values().next().value?.drop();
  }

  #forget(idle: Idle): void {
    this.#all.delete(idle);
    const list = this.#byKey.get(idle.key);
    const at = list?.indexOf(idle) ?? -1;
    if (!list || at === -1) return;
    list.splice(at, 1);
    if (list.length === 0) this.#byKey.delete(idle.key);
  }
}
