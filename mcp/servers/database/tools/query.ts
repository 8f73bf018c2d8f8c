import type { Client } from "@neondatabase/serverless";
import { z } from "zod";
import { defineTool, ToolError } from "../../../server/types";
import { resolveTarget, wasDropped } from "../connection";
import { LIMITS } from "../limits";
import { connectionField } from "../schemas";
import { withReadOnlySession } from "../session";
import { type ResultField, runStatement } from "../statement";
import { decodeValue, knownTypeName } from "../values";

/** What `query` returns. */
export interface QueryResult {
  /** `"sample"`, or the name of the tenant secret the connection came from. */
  connection: string;
  /** PostgreSQL's command tag (`SELECT 3`); null when the result was cut or the SQL was empty. */
  command: string | null;
  columns: { name: string; type: string }[];
  /** One array per row, in column order. */
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
  /** Why rows are missing when `truncated`: the row limit or the size limit. */
  truncatedBy?: "rows" | "bytes";
  note?: string;
}

/**
 * Statements that start or end transactions: with one statement per call they could only end
 * the read-only transaction early, and PREPARE TRANSACTION would leave it (and its locks)
 * behind.
 */
const TRANSACTION_CONTROL = new Set([
  "ABORT",
  "BEGIN",
  "COMMIT",
  "END",
  "PREPARE",
  "RELEASE",
  "ROLLBACK",
  "SAVEPOINT",
  "START",
]);

/**
 * How a query may begin (besides "(", a parenthesised SELECT). A convenience and an extra layer,
 * not the guarantee: PostgreSQL's read-only transaction refuses writes whatever the first word,
 * and a statement that begins with SELECT can still try (writable CTEs, nextval, FOR UPDATE).
 * It keeps out what a read-only transaction allows but a query tool has no use for: LOCK,
 * ANALYZE, REINDEX, CLUSTER, LISTEN/NOTIFY, LOAD, SET and DISCARD.
 */
const QUERY_KEYWORDS = new Set(["SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN"]);

export const query = defineTool({
  name: "query",
  title: "Run a read-only SQL query",
  description:
    "Runs ONE read-only SQL statement (SELECT, WITH ... SELECT, VALUES, TABLE, SHOW or EXPLAIN) on PostgreSQL " +
    `and returns columns and rows (at most ${LIMITS.maxRows} rows and about 1 MiB; beyond that the result is cut ` +
    `and says truncated). It runs in a READ ONLY transaction with a ${LIMITS.statementTimeoutMs / 1000} s timeout ` +
    "that is always rolled back: writes, DDL, locks, sequence changes and transaction control are refused " +
    "(reason read_only, multiple_statements, transaction_control or not_a_query). Use list_tables, " +
    "describe_table or get_schema first to learn the tables.",
  input: z.object({
    sql: z
      .string()
      .max(LIMITS.maxSqlLength)
      .refine((s) => s.trim() !== "", "must not be empty")
      .describe(
        "One SQL statement; no parameters. A trailing semicolon is fine, a second statement is refused.",
      ),
    connection: connectionField,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  async run({ sql, connection }, ctx): Promise<QueryResult> {
    const keyword = leadingKeyword(sql);
    if (keyword && TRANSACTION_CONTROL.has(keyword)) {
      throw new ToolError(
        `${keyword} is transaction control; each call runs in its own read-only transaction, which is always rolled back.`,
        "transaction_control",
      );
    }
    if (keyword && !QUERY_KEYWORDS.has(keyword)) {
      throw new ToolError(
        `Only read-only queries run here (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN), not ${keyword}.`,
        "not_a_query",
      );
    }
    const target = await resolveTarget(connection, ctx);
    return withReadOnlySession(target, ctx, async (client) => {
      const result = await runStatement(client, sql, LIMITS);
      const columns = await columnTypes(client, result.fields);
      const decoded = result.rows.map((row) =>
        row.map((v, i) => decodeValue(v, result.fields[i]?.dataTypeID ?? 0)),
      );
      const { rows, cut } = fitInBytes(decoded, LIMITS.maxBytes);
      const truncatedBy = cut ? "bytes" : (result.truncated ?? undefined);
      return {
        connection: target.connection,
        command: truncatedBy ? null : result.command,
        columns,
        rows,
        rowCount: rows.length,
        truncated: truncatedBy !== undefined,
        ...(truncatedBy ? { truncatedBy, note: truncationNote(truncatedBy, rows.length) } : {}),
      };
    });
  },
});

/**
 * Column types as PostgreSQL writes them (`numeric(10,2)`, `character varying(40)`), asked in the
 * same transaction; from a fixed list when the connection was dropped for size.
 */
async function columnTypes(client: Client, fields: ResultField[]): Promise<{ name: string; type: string }[]> {
  if (fields.length === 0) return [];
  if (wasDropped(client)) return fields.map((f) => ({ name: f.name, type: knownTypeName(f) }));
  const { rows } = await client.query<{ type: string }>(
    `SELECT pg_catalog.format_type(t.oid, NULLIF(t.mod, -1)) AS type
       FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS t(oid, mod, n) ORDER BY t.n`,
    [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  );
  return fields.map((f, i) => ({ name: f.name, type: rows[i]?.type ?? knownTypeName(f) }));
}

const encoder = new TextEncoder();

/** The leading rows whose JSON together stays within `maxBytes`. */
function fitInBytes(rows: unknown[][], maxBytes: number): { rows: unknown[][]; cut: boolean } {
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    total += encoder.encode(JSON.stringify(rows[i])).byteLength + 1;
    if (total > maxBytes) return { rows: rows.slice(0, i), cut: true };
  }
  return { rows, cut: false };
}

function truncationNote(by: "rows" | "bytes", kept: number): string {
  return by === "rows"
    ? `Only the first ${kept} rows are returned. Add a LIMIT, filter, or aggregate to see the rest.`
    : `The result is larger than ${LIMITS.maxBytes} bytes; ${kept} rows are returned. Select fewer or shorter columns, or add a LIMIT.`;
}

/**
 * The first keyword of `sql`, upper-cased, after whitespace and comments (`--` and nested
 * block comments, as PostgreSQL reads them); null when there is none.
 *
 * @example
 * leadingKeyword("-- note\n  begin;"); // "BEGIN"
 */
export function leadingKeyword(sql: string): string | null {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (sql.startsWith("--", i)) {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? sql.length : end + 1;
    } else if (sql.startsWith("/*", i)) {
      let depth = 0;
      while (i < sql.length) {
        if (sql.startsWith("/*", i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith("*/", i)) {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else {
          i++;
        }
      }
    } else {
      break;
    }
  }
  const word = /^[A-Za-z_]+/.exec(sql.slice(i));
  return word ? word[0].toUpperCase() : null;
}
