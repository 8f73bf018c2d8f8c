import type { Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

/**
 * The part of pglite-socket's (unexported) query queue that its `PGLiteSocketHandler` calls.
 * The handler frames the wire protocol and hands over one complete message at a time.
 */
export interface HandlerQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  clearQueueForHandler(handlerId: number): void;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
  getQueueLength(): number;
}

export interface SessionGateOptions {
  /**
   * A connection that holds the session inside a transaction and sends nothing for this long
   * while others wait is terminated and rolled back, as `idle_in_transaction_session_timeout`
   * would. Without it one leaked transaction (or code that waits, inside a transaction, for
   * another connection) would stall every connection for good.
   * @default 10_000
   */
  idleInTransactionTimeoutMs?: number;
  /** The one database PGlite serves; startup packets naming another are refused. */
  database: string;
}

interface Job {
  connection: number;
  /** undefined: the connection is gone; roll back whatever it left open. */
  message: Uint8Array | undefined;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

interface Connection {
  socket: Socket;
  /** The role the startup packet named; undefined until it arrived. */
  user?: string;
  dead: boolean;
}

const PROTOCOL_3 = 196608;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const BOOTSTRAP_USER = "postgres";

/**
 * Puts PGlite, which is ONE backend session, behind many client connections as if each had its
 * own session, within limits:
 *
 * - A connection holds the session from its first message until PostgreSQL reports idle
 *   (ReadyForQuery 'I'): a whole extended-protocol cycle, and a whole BEGIN..COMMIT. Others
 *   queue meanwhile, so no one's statements land inside another's transaction or between
 *   another's Parse and Bind. pglite-socket's own queue checks the transaction only per
 *   message, which lets a cycle be split whenever a message waits on I/O (a file-backed data
 *   directory), and wedges for good after an exec error.
 * - Each connection runs as the role its startup packet named (`SET SESSION AUTHORIZATION`
 *   when the session changes hands), so migrations create objects owned by `meridian_owner`
 *   and `meridian_app` really lacks table privileges, as on a server. Passwords are not
 *   checked.
 *
 * Not emulated: concurrency itself (row locks, isolation anomalies, deadlocks: transactions
 * simply run one after another), session-level settings (`SET` without LOCAL, prepared
 * statement names, advisory locks and temp tables are shared by all connections) and
 * cancellation.
 */
export class SessionGate implements HandlerQueue {
  readonly #db: PGlite;
  readonly #options: Required<SessionGateOptions>;
  readonly #connections = new Map<number, Connection>();
  #queue: Job[] = [];
  #owner: number | undefined;
  #ownerIdleSince = 0;
  #running = false;
  /** Whose role the session currently runs as. */
  #authorizedFor: number | undefined;
  #closed = false;
  readonly #watchdog: NodeJS.Timeout;

  constructor(db: PGlite, options: SessionGateOptions) {
    this.#db = db;
    this.#options = { idleInTransactionTimeoutMs: 10_000, ...options };
    this.#watchdog = setInterval(() => this.#checkIdleOwner(), 500);
    this.#watchdog.unref();
  }

  /** Registers a socket before its handler attaches, so the gate can refuse or end it. */
  register(connection: number, socket: Socket): void {
    this.#connections.set(connection, { socket, dead: false });
  }

  enqueue(connection: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      const state = this.#connections.get(connection);
      if (this.#closed || !state || state.dead) {
        reject(new Error("connection closed"));
        return;
      }
      this.#queue.push({ connection, message, onData, resolve, reject });
      void this.#pump();
    });
  }

  clearQueueForHandler(connection: number): void {
    const kept: Job[] = [];
    for (const job of this.#queue) {
      if (job.connection === connection) job.reject(new Error("connection closed"));
      else kept.push(job);
    }
    this.#queue = kept;
  }

  async clearTransactionIfNeeded(connection: number): Promise<void> {
    const state = this.#connections.get(connection);
    if (state) state.dead = true;
    this.#connections.delete(connection);
    if (this.#owner !== connection) return;
    // Queued as the owner's last job, so it runs after the message still executing, if any.
    await new Promise<number>((resolve, reject) => {
      this.#queue.push({ connection, message: undefined, onData: () => undefined, resolve, reject });
      void this.#pump();
    }).catch(() => undefined);
  }

  getQueueLength(): number {
    return this.#queue.length;
  }

  /** Stops the watchdog; pending messages fail. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#watchdog);
    for (const job of this.#queue) job.reject(new Error("server closed"));
    this.#queue = [];
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const index =
          this.#owner === undefined ? 0 : this.#queue.findIndex((job) => job.connection === this.#owner);
        const job = index === -1 ? undefined : this.#queue[index];
        if (!job) break;
        this.#queue.splice(index, 1);
        this.#owner = job.connection;
        try {
          const { bytes, idle } = await this.#run(job);
          job.resolve(bytes);
          if (idle) this.#owner = undefined;
        } catch (error) {
          job.reject(error instanceof Error ? error : new Error(String(error)));
          await this.#rollbackIfOpen();
          this.#owner = undefined;
        }
        this.#ownerIdleSince = Date.now();
      }
    } finally {
      this.#running = false;
    }
  }

  /** Runs one message; `idle` is true when it ended the connection's hold on the session. */
  async #run(job: Job): Promise<{ bytes: number; idle: boolean }> {
    const { message, connection } = job;
    if (message === undefined || message[0] === TERMINATE) {
      await this.#rollbackIfOpen();
      // A server closes the connection after Terminate, and clients wait for that in end().
      if (message) this.#connections.get(connection)?.socket.end();
      return { bytes: 0, idle: true };
    }
    if (isStartup(message)) return { bytes: await this.#startup(job, message), idle: true };
    const user = this.#connections.get(connection)?.user;
    // Gone (ended by the watchdog) or never started up: nothing may run, least of all as superuser.
    if (user === undefined) throw new Error("connection closed or not started");
    if (this.#authorizedFor !== connection) {
      await this.#db.exec(
        user === BOOTSTRAP_USER ? "RESET SESSION AUTHORIZATION" : `SET SESSION AUTHORIZATION ${quote(user)}`,
      );
      this.#authorizedFor = connection;
    }
    let bytes = 0;
    const scanner = new ReadyForQueryScanner();
    await this.#db.runExclusive(() =>
      this.#db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          scanner.feed(data);
          job.onData(data);
        },
      }),
    );
    return { bytes, idle: scanner.status === IDLE };
  }

  async #startup(job: Job, message: Uint8Array): Promise<number> {
    const params = startupParameters(message);
    const user = params.get("user") ?? "";
    const database = params.get("database") ?? user;
    const refusal = await this.#refusal(user, database);
    const state = this.#connections.get(job.connection);
    if (refusal) {
      state?.socket.end(errorResponse("FATAL", refusal.code, refusal.message));
      if (state) state.dead = true;
      return 0;
    }
    if (state) state.user = user;
    let bytes = 0;
    await this.#db.runExclusive(() =>
      this.#db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          job.onData(data);
        },
      }),
    );
    return bytes;
  }

  async #refusal(user: string, database: string): Promise<{ code: string; message: string } | undefined> {
    if (database !== this.#options.database) {
      return {
        code: "3D000",
        message: `database "${database}" does not exist (embedded PGlite serves only "${this.#options.database}")`,
      };
    }
    const { rows } = await this.#db.query<{ rolcanlogin: boolean }>(
      "select rolcanlogin from pg_roles where rolname = $1",
      [user],
    );
    if (!rows[0]) return { code: "28000", message: `role "${user}" does not exist` };
    if (!rows[0].rolcanlogin) return { code: "28000", message: `role "${user}" is not permitted to log in` };
    return undefined;
  }

  async #rollbackIfOpen(): Promise<void> {
    if (this.#db.isInTransaction()) await this.#db.exec("ROLLBACK").catch(() => undefined);
  }

  #checkIdleOwner(): void {
    const owner = this.#owner;
    if (owner === undefined || this.#running) return;
    if (Date.now() - this.#ownerIdleSince < this.#options.idleInTransactionTimeoutMs) return;
    if (!this.#queue.some((job) => job.connection !== owner)) return;
    const state = this.#connections.get(owner);
    console.warn(
      `[embedded PostgreSQL] ended a connection idle in a transaction for over ${this.#options.idleInTransactionTimeoutMs} ms while others waited (PGlite runs one transaction at a time)`,
    );
    state?.socket.end(
      errorResponse("FATAL", "25P03", "terminating connection due to idle-in-transaction timeout"),
    );
    void this.clearTransactionIfNeeded(owner);
  }
}

function isStartup(message: Uint8Array): boolean {
  if (message.length < 8 || message[0] !== 0) return false;
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength).readInt32BE(4) === PROTOCOL_3;
}

function startupParameters(message: Uint8Array): Map<string, string> {
  const parts = Buffer.from(message.buffer, message.byteOffset, message.byteLength)
    .subarray(8)
    .toString("utf8")
    .split("\0");
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length && parts[i] !== ""; i += 2) {
    params.set(parts[i] as string, parts[i + 1] as string);
  }
  return params;
}

/** A backend ErrorResponse message, for refusals the gate answers itself. */
function errorResponse(severity: string, code: string, message: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${message}\0\0`, "utf8");
  const header = Buffer.alloc(5);
  header.write("E", 0, "latin1");
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** Follows backend message boundaries across chunks and remembers the last ReadyForQuery status. */
class ReadyForQueryScanner {
  status: number | undefined;
  #header = Buffer.alloc(0);
  #skip = 0;
  #type = 0;

  feed(chunk: Uint8Array): void {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length > 0) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, data.length);
        if (this.#type === READY_FOR_QUERY && n === this.#skip) this.status = data[n - 1];
        this.#skip -= n;
        data = data.subarray(n);
        continue;
      }
      const need = 5 - this.#header.length;
      this.#header = Buffer.concat([this.#header, data.subarray(0, need)]);
      data = data.subarray(need);
      if (this.#header.length < 5) return;
      this.#type = this.#header[0] ?? 0;
      this.#skip = this.#header.readInt32BE(1) - 4;
      this.#header = Buffer.alloc(0);
    }
  }
}
