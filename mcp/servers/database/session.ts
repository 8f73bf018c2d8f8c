import type { Client } from "@neondatabase/serverless";
import { type McpToolContext, ToolError } from "../../server/types";
import {
  cancelled,
  closeClient,
  type DatabaseTarget,
  dropConnection,
  openClient,
  wasDropped,
} from "./connection";
import { LIMITS } from "./limits";

/**
 * Opens the session's one transaction: READ ONLY, with both timeouts local to it, then one
 * SELECT that checks the role. The SELECT also takes the transaction's first snapshot, after
 * which PostgreSQL refuses `SET TRANSACTION READ WRITE` ("must be set before any query").
 */
const OPEN = `BEGIN READ ONLY;
SET LOCAL statement_timeout = ${LIMITS.statementTimeoutMs};
SET LOCAL idle_in_transaction_session_timeout = ${LIMITS.idleInTransactionMs};
SELECT current_setting('transaction_read_only') AS read_only,
       current_setting('is_superuser') = 'on' AS superuser,
       EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                WHERE r.rolname IN ('pg_execute_server_program', 'pg_write_server_files')
                  AND pg_catalog.pg_has_role(r.oid, 'MEMBER')) AS server_files,
       EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                 JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
                WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
                  AND e.extname IN ('dblink', 'pg_background')
                  AND pg_catalog.has_function_privilege(d.objid, 'EXECUTE')) AS escapes`;

interface RoleCheck {
  read_only: string;
  superuser: boolean;
  server_files: boolean;
  /** May call functions that run SQL in another session (dblink, pg_background). */
  escapes: boolean;
}

/**
 * Runs `fn` on a fresh connection to `target`, inside a READ ONLY transaction with a statement
 * timeout, then rolls back and closes the connection whatever happened. Refuses roles for which
 * a read-only transaction is not enough: a superuser or a member of `pg_execute_server_program`
 * / `pg_write_server_files` can run programs and write server files from a read-only
 * transaction (`COPY ... TO PROGRAM`), and dblink and pg_background run SQL in sessions of
 * their own, outside it.
 * The call's signal, and a Worker-side deadline, drop the connection.
 *
 * @throws {ToolError} for every failure the caller can act on (see {@link toToolError}):
 *   `connection_failed`, `role_too_powerful`, `timeout`, `cancelled`, SQL errors.
 * @example
 * const rows = await withReadOnlySession(target, ctx, (client) => client.query(sql, params));
 */
export async function withReadOnlySession<T>(
  target: DatabaseTarget,
  ctx: Pick<McpToolContext, "config" | "signal">,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await openClient(target.url, ctx.config, ctx.signal);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    dropConnection(client);
  }, LIMITS.callDeadlineMs);
  const abort = () => dropConnection(client);
  ctx.signal.addEventListener("abort", abort, { once: true });
  try {
    const opened = (await client.query(OPEN)) as unknown as { rows: RoleCheck[] }[];
    const check = opened.at(-1)?.rows[0];
    if (check?.read_only !== "on") throw new Error("database server: the transaction is not read-only");
    if (check.superuser || check.server_files) {
      throw new ToolError(
        "Refusing to run as a superuser or a role that can run programs or write files on the database server: a read-only transaction cannot stop those. Use a role with SELECT privileges only.",
        "role_too_powerful",
      );
    }
    if (check.escapes) {
      throw new ToolError(
        "Refusing to run as a role that may call dblink or pg_background functions: they run SQL in sessions of their own, outside the read-only transaction. Revoke EXECUTE on them from this role, or use another role.",
        "role_too_powerful",
      );
    }
    const result = await fn(client);
    if (!wasDropped(client)) await client.query("ROLLBACK");
    return result;
  } catch (error) {
    if (timedOut) throw timeoutError();
    if (ctx.signal.aborted) throw cancelled();
    throw toToolError(error);
  } finally {
    clearTimeout(deadline);
    ctx.signal.removeEventListener("abort", abort);
    await closeClient(client);
  }
}

/** PostgreSQL error fields the driver's DatabaseError carries. */
interface PgError {
  code: string;
  message: string;
  hint?: string;
  position?: string;
}

function isPgError(error: unknown): error is PgError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * The caller's view of a failure: PostgreSQL's refusals and errors, and lost connections, become
 * a `ToolError` with the server's message; anything else (a bug here) is rethrown as it is.
 *
 * Reasons: `read_only` (25006 "cannot execute ... in a read-only transaction", 25001 "transaction
 * read-write mode must be set before any query", 2D000 transaction control inside a function),
 * `multiple_statements`, `timeout` (57014, 25P03), `permission_denied` (42501), `sql_error` (the
 * rest), `connection_failed`.
 */
export function toToolError(error: unknown): unknown {
  if (error instanceof ToolError) return error;
  if (isPgError(error)) {
    const detail = [
      error.message,
      error.position ? ` (at character ${error.position})` : "",
      error.hint ? ` Hint: ${error.hint}` : "",
    ].join("");
    return new ToolError(detail, reasonOf(error));
  }
  if (error instanceof Error && /connection|terminated|socket|websocket|closed/i.test(error.message)) {
    return new ToolError(`The database connection failed: ${error.message}`, "connection_failed");
  }
  return error;
}

function reasonOf(error: PgError): string {
  switch (error.code) {
    case "25006":
    case "25001":
    case "2D000":
      return "read_only";
    case "57014":
    case "25P03":
      return "timeout";
    case "42501":
      return "permission_denied";
    case "42601":
      return /multiple commands/.test(error.message) ? "multiple_statements" : "sql_error";
    default:
      return "sql_error";
  }
}

function timeoutError(): ToolError {
  return new ToolError(
    `The database did not answer within ${LIMITS.callDeadlineMs / 1000} s; the connection was dropped.`,
    "timeout",
  );
}
