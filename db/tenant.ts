import type { Client } from "@neondatabase/serverless";
import type { SQLWrapper } from "drizzle-orm";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { PgDialect } from "drizzle-orm/pg-core";
import { isUuid } from "../workers/lib/ids";
import * as schema from "./schema";

/** The role whose grants and RLS policies tenant queries run under. */
export const TENANT_ROLE = "meridian_tenant";

/**
 * Drizzle bound to one open, tenant-scoped transaction. It is the only database handle a
 * route ever receives, so a query cannot run outside the tenant wall.
 */
export type TenantDb = NeonDatabase<typeof schema> & {
  readonly tenantId: string;
  /** The transaction's connection, for a hot path that sends a statement of its own. */
  readonly $client: Client;
  /** The `settings` the transaction was opened with, so a caller can skip setting them again. */
  readonly settings?: Readonly<Record<string, string>>;
};

/** What the opening round trip learns about the tenant and the calling user. */
export interface TenantState {
  /** False when the tenant is suspended or deleted. */
  tenantActive: boolean;
  /** The user behind a session credential, as the database sees it now; null when gone. */
  user?: { status: string; role: string; sessionActive: boolean } | null;
}

export interface TenantOptions {
  /** A user session to re-check in the same round trip (disabled user, ended session, new role). */
  session?: { userId: string; sessionId: string };
  /**
   * A read-only transaction left open at the end: nothing was written, so instead of a COMMIT
   * round trip the transaction ends with the connection (closed after the response), or with
   * the ROLLBACK that opens the next `withTenant` on the same connection.
   */
  readOnly?: boolean;
  /**
   * Settings local to the transaction (`set_config(name, value, true)`), sent in the opening
   * round trip instead of a statement of their own: for a caller that knows them up front,
   * such as a vector search's HNSW knobs. The opening message is simple protocol, so names
   * must be (dotted) identifiers and values plain words or numbers (letters, digits, `_.,:+-`).
   */
  settings?: Readonly<Record<string, string>>;
}

/** Connections whose last tenant transaction was read-only and is still open. */
const openReadOnly = new WeakSet<Client>();

function uuidLiteral(value: string, what: string): string {
  if (!isUuid(value)) throw new Error(`withTenant: ${what} is not a UUID`);
  return `'${value.toLowerCase()}'`;
}

const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i;
/** No quote, backslash or space can pass, so the value is safe between single quotes. */
const SETTING_VALUE = /^[\w.,:+-]*$/;

/** One `SELECT set_config(...)` for all of `settings`; none when there are none. */
function settingStatements(settings: Readonly<Record<string, string>> = {}): string[] {
  const calls = Object.entries(settings).map(([name, value]) => {
    if (!SETTING_NAME.test(name))
      throw new Error(`withTenant: setting name ${JSON.stringify(name)} is refused`);
    if (!SETTING_VALUE.test(value)) throw new Error(`withTenant: value of ${name} is refused`);
    return `set_config('${name}', '${value}', true)`;
  });
  return calls.length > 0 ? [`SELECT ${calls.join(", ")}`] : [];
}

/**
 * The statements that open a tenant transaction, and where the tenant's (and session's) state
 * rows come back among their results (when `readState`).
 */
function opening(client: Client, tenantId: string, opts: TenantOptions, readState = true) {
  const tenant = uuidLiteral(tenantId, "tenant id");
  const statements = [
    ...(openReadOnly.has(client) ? ["ROLLBACK"] : []),
    opts.readOnly ? "BEGIN READ ONLY" : "BEGIN",
    // Before the role and the tenant, so no setting can change either.
    ...settingStatements(opts.settings),
    `SET LOCAL ROLE ${TENANT_ROLE}`,
    `SELECT set_config('app.tenant_id', ${tenant}, true)`,
  ];
  const tenantAt = statements.length;
  if (!readState) return { statements, tenantAt, userAt: tenantAt };
  statements.push(`SELECT status FROM tenants WHERE id = ${tenant} AND deleted_at IS NULL`);
  const userAt = statements.length;
  if (opts.session) {
    const user = uuidLiteral(opts.session.userId, "user id");
    const session = uuidLiteral(opts.session.sessionId, "session id");
    statements.push(
      `SELECT u.status, u.role, (s.id IS NOT NULL AND s.revoked_at IS NULL) AS session_active
         FROM users u LEFT JOIN sessions s ON s.id = ${session} AND s.user_id = u.id
        WHERE u.id = ${user} AND u.deleted_at IS NULL`,
    );
  }
  return { statements, tenantAt, userAt };
}

const inlining = new PgDialect();

/** PostgreSQL's code for a value it cannot take, as it answers a bound text value with a NUL. */
const CHARACTER_NOT_IN_REPERTOIRE = "22021";

/**
 * Inlines `statement` for a simple-protocol message (see `tenantStatement` for the limits).
 *
 * @throws Error with `code` 22021 for a value holding a NUL character: the message is a C string
 *   a NUL would cut short, and PostgreSQL refuses such a value when bound, with that code, which
 *   the API answers as the client's mistake (400), so it is refused the same way before sending.
 */
function inlined(statement: SQLWrapper): string {
  const text = inlining.sqlToQuery(statement.getSQL().inlineParams()).sql;
  if (text.includes("\0")) {
    throw Object.assign(new Error("a value holds a NUL character, which PostgreSQL cannot store"), {
      code: CHARACTER_NOT_IN_REPERTOIRE,
    });
  }
  return text;
}

/** Drizzle over each connection, made once: making one reads the whole schema's relations. */
const drizzleByClient = new WeakMap<Client, NeonDatabase<typeof schema> & { $client: Client }>();

/** The connection's drizzle, seen through a handle that also carries the tenant (and settings). */
function tenantDb(client: Client, tenantId: string, settings?: TenantOptions["settings"]): TenantDb {
  let db = drizzleByClient.get(client);
  if (!db) {
    db = drizzle({ client, schema });
    drizzleByClient.set(client, db);
  }
  // A new object per transaction whose prototype is the shared drizzle: its methods find the
  // session and dialect through `this`, and no tenant can stay behind on the shared one.
  return Object.assign(Object.create(db) as typeof db, {
    tenantId,
    ...(settings ? { settings: { ...settings } } : {}),
  });
}

/**
 * One statement in a tenant transaction of its own, in one round trip instead of three: the
 * opening, the statement and the COMMIT travel as one simple-protocol message. For small,
 * frequent writes such as a document's stage stamps, where the opening and the COMMIT would
 * cost twice what the statement does.
 *
 * The simple protocol takes no parameters, so drizzle inlines them as literals (strings
 * quoted with `''` doubling, which is exact while `standard_conforming_strings` is on, as it
 * is by default and nothing here changes). Meant for statements built from ids, numbers and
 * short words, not for large or binary values. The tenant's state is not read; `settings` are
 * set as `withTenant` sets them.
 *
 * @returns the statement's rows, as the driver parses them (column names, not drizzle's keys).
 * @throws whatever the statement raises, after rolling the transaction back.
 * @example
 * const rows = await tenantStatement(client, tenantId, (db) =>
 *   db.update(documents).set({ status: "chunking" }).where(eq(documents.id, id)).returning({ id: documents.id }));
 */
export async function tenantStatement(
  client: Client,
  tenantId: string,
  build: (db: TenantDb) => SQLWrapper,
  opts: Pick<TenantOptions, "settings"> = {},
): Promise<Record<string, unknown>[]> {
  const { statements } = opening(client, tenantId, opts, false);
  const db = tenantDb(client, tenantId);
  const at = statements.length;
  statements.push(inlined(build(db)), "COMMIT");
  openReadOnly.delete(client);
  try {
    const results = (await client.query(statements.join("; "))) as unknown as {
      rows: Record<string, unknown>[];
    }[];
    return results[at]?.rows ?? [];
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Sends `statements` in `db`'s open transaction as one simple-protocol message, so they cost one
 * round trip together, and returns each one's rows as the driver parses them (column names, not
 * drizzle's keys). Inlined as `tenantStatement` inlines (same limits on values). For a hot path
 * whose independent statements would otherwise wait on each other's round trips.
 *
 * @throws whatever a statement raises (the transaction is then aborted, as with any statement).
 * @example
 * const [, rows] = await sendTogether(db, [settingsStatement, db.select().from(collections)]);
 */
export async function sendTogether(
  db: TenantDb,
  statements: readonly SQLWrapper[],
): Promise<Record<string, unknown>[][]> {
  if (statements.length === 0) return [];
  const results = (await db.$client.query(statements.map(inlined).join("; "))) as unknown as
    | { rows: Record<string, unknown>[] }
    | { rows: Record<string, unknown>[] }[];
  // The driver answers one statement with its result, several with an array of them.
  return Array.isArray(results) ? results.map((r) => r.rows) : [results.rows];
}

/** What each open read-write `withTenant` transaction sends with its COMMIT. */
interface PendingCommit {
  writes: string[];
  /** False once `commitWithoutFlush` was called. */
  flush: boolean;
}
const pendingCommits = new WeakMap<TenantDb, PendingCommit>();

function pendingCommit(db: TenantDb, caller: string): PendingCommit {
  const pending = pendingCommits.get(db);
  if (!pending) throw new Error(`${caller} needs an open read-write withTenant transaction`);
  return pending;
}

/**
 * Queues `statement` to run when `db`'s transaction commits, in the COMMIT's own round trip
 * instead of one of its own: for a request's closing record (a search's recorded query, its
 * usage) that nothing in the request reads back. The statements run in the order queued, after
 * everything `fn` awaited. Inlined as `tenantStatement` inlines (same limits on values), now,
 * so later changes to the values it was built from do not reach it. If one fails, the
 * transaction rolls back and `withTenant` throws its error, as if it had been awaited in place;
 * if `fn` throws, nothing queued runs.
 *
 * @throws Error when `db` is not an open read-write `withTenant` transaction.
 * @example
 * writeAtCommit(db, db.insert(ragQueries).values(row));
 */
export function writeAtCommit(db: TenantDb, statement: SQLWrapper): void {
  pendingCommit(db, "writeAtCommit").writes.push(inlined(statement));
}

/**
 * Lets `db`'s transaction commit without waiting for its WAL to reach disk
 * (`synchronous_commit = off`, local to the transaction, sent with the COMMIT): for a
 * transaction whose only writes record a read, such as a search's query log and its unpriced
 * usage. A database crash within the WAL writer's delay (about 0.6 s at the default) can then
 * lose the record of a request that was answered; it cannot tear or duplicate anything. Never
 * for work a client or a queue relies on.
 *
 * @throws Error when `db` is not an open read-write `withTenant` transaction.
 */
export function commitWithoutFlush(db: TenantDb): void {
  pendingCommit(db, "commitWithoutFlush").flush = false;
}

/** COMMIT, with what was queued for it in the same message; ROLLBACK when a write fails. */
async function commit(client: Client, { writes, flush }: PendingCommit): Promise<void> {
  const statements = [...(flush ? [] : ["SET LOCAL synchronous_commit = off"]), ...writes, "COMMIT"];
  if (statements.length === 1) {
    await client.query("COMMIT");
    return;
  }
  try {
    await client.query(statements.join("; "));
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Runs `fn` inside one transaction scoped to `tenantId`: the role is switched to
 * `meridian_tenant` and `app.tenant_id` is set, both local to the transaction, so RLS
 * filters every statement and nothing leaks to the next user of the connection. Commits
 * when `fn` resolves (sending the writes `writeAtCommit` queued in the same round trip), rolls
 * back when it throws.
 *
 * Opening is one simple-protocol round trip: BEGIN, the role, the setting (and the caller's
 * `settings`), and the tenant's (and session's) current state together. The ids are validated
 * as UUIDs, and the settings against a strict pattern, before they are inlined.
 *
 * @throws Error when an id is not a UUID or a setting is refused; rethrows whatever `fn` throws.
 * @example
 * const agents = await withTenant(client, tenantId, (db) => db.select().from(schema.agents));
 */
export async function withTenant<T>(
  client: Client,
  tenantId: string,
  fn: (db: TenantDb, state: TenantState) => Promise<T>,
  opts: TenantOptions = {},
): Promise<T> {
  const { statements, tenantAt, userAt } = opening(client, tenantId, opts);
  const results = (await client.query(statements.join("; "))) as unknown as {
    rows: Record<string, unknown>[];
  }[];
  openReadOnly.delete(client);
  const tenantRow = results[tenantAt]?.rows[0];
  const userRow = opts.session ? results[userAt]?.rows[0] : undefined;
  const state: TenantState = {
    tenantActive: tenantRow?.status === "active",
    ...(opts.session
      ? {
          user: userRow
            ? {
                status: String(userRow.status),
                role: String(userRow.role),
                sessionActive: userRow.session_active === true,
              }
            : null,
        }
      : {}),
  };

  const db = tenantDb(client, tenantId, opts.settings);
  const pending: PendingCommit = { writes: [], flush: true };
  if (!opts.readOnly) pendingCommits.set(db, pending);
  let result: T;
  try {
    result = await fn(db, state);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    pendingCommits.delete(db);
  }
  if (opts.readOnly) openReadOnly.add(client);
  else await commit(client, pending);
  return result;
}
