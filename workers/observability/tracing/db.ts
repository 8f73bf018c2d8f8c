import type { Client } from "@neondatabase/serverless";
import { childSpan, isTracingRegistered, SpanKind } from "./spans";

/** The statement's first keyword: SELECT, INSERT, BEGIN ... */
const OPERATION = /^\s*([A-Za-z]+)/;
/** The first table a statement names after FROM, INTO, UPDATE or JOIN (drizzle quotes it). */
const TABLE = /\b(?:from|into|update|join)\s+"?([A-Za-z_][\w$]*)"?/i;

/**
 * Gives the connection of `client` (`connect postgresql`) and every query (`SELECT agents`) a
 * span of kind CLIENT below the active span, with `db.system`, `db.name`, `db.operation` and
 * `db.sql.table`. Never the statement text or its parameters: drizzle's statements use
 * placeholders, but the tenant-transaction opener and a few hand-written statements inline ids
 * and literals, and parameters are tenant data.
 *
 * Costs nothing in an isolate that does not trace (the client is left as it is), and one
 * context lookup per call in one that does, when the call runs outside a traced invocation.
 */
export function traceQueries(client: Client): void {
  if (!isTracingRegistered()) return;
  const query = client.query;
  const connect = client.connect;
  const database = client.database;
  client.connect = function tracedConnect(this: Client, ...args: unknown[]) {
    if (typeof args[0] === "function") return Reflect.apply(connect, this, args);
    return childSpan(
      "connect postgresql",
      { kind: SpanKind.CLIENT, attributes: { "db.system": "postgresql", "db.name": database } },
      () => Reflect.apply(connect, this, args) as Promise<void>,
    );
  } as Client["connect"];
  client.query = function tracedQuery(this: Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: unknown; submit?: unknown } | undefined;
    const text = typeof first === "string" ? first : typeof first?.text === "string" ? first.text : undefined;
    // Callback and submittable (cursor) forms return no promise to time: left alone.
    if (
      text === undefined ||
      typeof args.at(-1) === "function" ||
      typeof (first as { submit?: unknown })?.submit === "function"
    ) {
      return Reflect.apply(query, this, args);
    }
    const operation = OPERATION.exec(text)?.[1]?.toUpperCase() ?? "QUERY";
    const table = TABLE.exec(text)?.[1];
    const statements = text.split(";").filter((part) => part.trim() !== "").length;
    return childSpan(
      table ? `${operation} ${table}` : operation,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "db.system": "postgresql",
          "db.name": database,
          "db.operation": operation,
          "db.sql.table": table,
          "meridian.db.statements": statements > 1 ? statements : undefined,
        },
      },
      () => Reflect.apply(query, this, args) as Promise<unknown>,
    );
  } as Client["query"];
}
