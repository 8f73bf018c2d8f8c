import type { Client } from "@neondatabase/serverless";
import { dropConnection } from "./connection";

/** A column of a statement's result, as PostgreSQL described it. */
export interface ResultField {
  name: string;
  dataTypeID: number;
  dataTypeModifier: number;
}

/** What one statement produced, within the limits. */
export interface StatementResult {
  fields: ResultField[];
  /** Values in PostgreSQL's text format (null for SQL NULL), at most `maxRows`. */
  rows: (string | null)[][];
  /** The command tag (`SELECT 3`, `SHOW`); null when the result was cut or the SQL was empty. */
  command: string | null;
  /** Why rows are missing: more than `maxRows`, or more than `maxBytes` of data on the wire. */
  truncated: "rows" | "bytes" | null;
  /** True when reading stopped by dropping the connection (the `bytes` limit): no further statements. */
  dropped: boolean;
}

export interface StatementLimits {
  maxRows: number;
  maxBytes: number;
}

/**
 * Runs one statement of untrusted SQL with the extended query protocol, which PostgreSQL refuses
 * for more than one statement ("cannot insert multiple commands into a prepared statement").
 * `client.query(sql, [])` would not do: node-postgres (inside the Neon driver) sends a query
 * with no parameters as a simple Query message, and that runs every statement in the string.
 *
 * PostgreSQL is asked for at most `maxRows + 1` rows (Execute with a row count), so a large
 * result never leaves the server; the bytes that do arrive are counted, and past `maxBytes`
 * the connection is dropped and the rows read so far are returned.
 *
 * @throws the driver's DatabaseError when PostgreSQL refuses or fails the statement, or its
 *   connection error.
 * @example
 * const result = await runStatement(client, "select * from orders", { maxRows: 1000, maxBytes: 1 << 20 });
 */
export function runStatement(client: Client, sql: string, limits: StatementLimits): Promise<StatementResult> {
  const statement = new LimitedStatement(sql, limits, client);
  // A submittable: pg hands it the connection and routes the backend's messages to its handlers.
  client.query(statement as never);
  return statement.promise;
}

/** The slice of pg's Connection this uses (the same calls pg's own Query makes for a prepared statement). */
interface WireConnection {
  stream: { on(event: "data", fn: (chunk: Uint8Array) => void): void; off(event: "data", fn: never): void };
  parse(msg: { text: string; name: string; types: number[] }): void;
  bind(msg: { portal: string; statement: string; values: unknown[] }): void;
  describe(msg: { type: "P"; name: string }): void;
  execute(msg: { portal: string; rows: number }): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

class LimitedStatement {
  readonly promise: Promise<StatementResult>;
  #resolve!: (result: StatementResult) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #bytes = 0;
  #connection: WireConnection | undefined;
  readonly #result: StatementResult = {
    fields: [],
    rows: [],
    command: null,
    truncated: null,
    dropped: false,
  };

  constructor(
    private readonly text: string,
    private readonly limits: StatementLimits,
    private readonly client: Client,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: WireConnection): void {
    this.#connection = connection;
    connection.stream.on("data", this.#count);
    connection.parse({ text: this.text, name: "", types: [] });
    connection.bind({ portal: "", statement: "", values: [] });
    connection.describe({ type: "P", name: "" });
    connection.execute({ portal: "", rows: this.limits.maxRows + 1 });
    connection.sync();
  }

  // Registered after the driver's own parser, so rows in a chunk are handled before it is counted.
  readonly #count = (chunk: Uint8Array): void => {
    this.#bytes += chunk.byteLength;
    if (this.#bytes <= this.limits.maxBytes || this.#settled) return;
    this.#result.truncated = "bytes";
    this.#result.command = null;
    this.#result.dropped = true;
    dropConnection(this.client);
    this.#settle();
  };

  handleRowDescription(msg: { fields: ResultField[] }): void {
    this.#result.fields = msg.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      dataTypeModifier: f.dataTypeModifier,
    }));
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this.#settled) return;
    if (this.#result.rows.length < this.limits.maxRows) this.#result.rows.push(msg.fields);
    else this.#result.truncated ??= "rows";
  }

  handlePortalSuspended(): void {
    // Sync is already sent: the portal closes and ReadyForQuery follows.
    this.#result.truncated ??= "rows";
  }

  handleCommandComplete(msg: { text: string }): void {
    if (!this.#settled && this.#result.truncated === null) this.#result.command = msg.text;
  }

  handleEmptyQuery(): void {}

  handleError(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#reject(error);
  }

  handleReadyForQuery(): void {
    this.#settle();
  }

  handleCopyInResponse(connection: WireConnection): void {
    // COPY FROM STDIN would wait for data we never send; a read-only transaction refuses it
    // anyway, but fail it here rather than rely on that.
    connection.sendCopyFail("COPY FROM STDIN is not supported");
  }

  handleCopyData(): void {}

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#resolve(this.#result);
  }

  #detach(): void {
    this.#connection?.stream.off("data", this.#count as never);
  }
}
