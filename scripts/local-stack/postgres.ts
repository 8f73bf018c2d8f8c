import { existsSync } from "node:fs";
import pg from "pg";

export interface EnsureDatabaseOptions {
  /** Superuser URL, e.g. `postgres://postgres@127.0.0.1:5432/postgres` or {@link superuserUrl}. */
  adminUrl: string;
  /** Database to create; a plain lower-case identifier because it also goes into URLs. */
  database: string;
  /** Password for `meridian_owner` (migrations). */
  ownerPassword: string;
  /** Password for `meridian_app` (the Worker's login). */
  appPassword: string;
}

const OWNER = "meridian_owner";
const APP = "meridian_app";
const TENANT = "meridian_tenant";
const SOCKET_DIR = "/var/run/postgresql";
const LOCK_KEY = "meridian.local-stack.ensure-database";

/**
 * Superuser URL for local setup: `PG_ADMIN_URL` when set, else user `postgres` over the
 * Debian socket (no password needed where the socket uses peer or trust auth), else TCP.
 *
 * @example
 * superuserUrl(); // "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres"
 */
export function superuserUrl(): string {
  const fromEnv = process.env.PG_ADMIN_URL;
  if (fromEnv) return fromEnv;
  // pg reads a URL-encoded path in the host position as a socket directory; unlike
  // `postgres://postgres@/postgres?host=/dir` this form is also a valid WHATWG URL.
  if (existsSync(`${SOCKET_DIR}/.s.PGSQL.5432`)) {
    return `postgres://postgres@${encodeURIComponent(SOCKET_DIR)}/postgres`;
  }
  return "postgres://postgres@127.0.0.1:5432/postgres";
}

/**
 * True when a session can be opened and answers `select 1` within `timeoutMs`. Wrong
 * credentials also give false: the caller can't use the server either way.
 *
 * @example
 * if (!(await isReachable(superuserUrl()))) console.error("start PostgreSQL first");
 */
export async function isReachable(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = newClient(url, timeoutMs);
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The server's `max_connections`, to size pools and parallel test workers against.
 *
 * @throws the driver's error when the server is unreachable.
 * @example
 * const limit = await maxConnections(superuserUrl()); // 100 on a default install
 */
export async function maxConnections(adminUrl: string): Promise<number> {
  const client = newClient(adminUrl);
  await client.connect();
  try {
    const { rows } = await client.query<{ max_connections: string }>("show max_connections");
    return Number(rows[0]?.max_connections);
  } finally {
    await client.end();
  }
}

/**
 * Creates (idempotently) the roles and the database; run as a superuser. Passwords and
 * role attributes are reset on every run, so a changed password in code takes effect.
 *
 * Roles: `meridian_owner` owns the database, schema `public` and (through migrations) every
 * table; `meridian_app` is the Worker's login, NOINHERIT, so it holds no table privileges
 * until it runs `SET LOCAL ROLE meridian_tenant`, the role that table grants go to.
 *
 * @throws Error when pgvector is not installed on the server, or the driver's error.
 * @example
 * await ensureDatabase({ adminUrl: superuserUrl(), database: "meridian_test", ownerPassword, appPassword });
 */
export async function ensureDatabase(opts: EnsureDatabaseOptions): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(opts.database)) {
    throw new Error(`database name must be a lower-case identifier, got ${JSON.stringify(opts.database)}`);
  }
  const admin = newClient(opts.adminUrl);
  await admin.connect();
  try {
    // A dev server and a test run often start together: concurrent CREATE/ALTER ROLE fail
    // with duplicate keys or "tuple concurrently updated". The lock ends with the session.
    await admin.query("select pg_advisory_lock(hashtext($1))", [LOCK_KEY]);
    await ensureRole(admin, OWNER, `LOGIN INHERIT PASSWORD ${pg.escapeLiteral(opts.ownerPassword)}`);
    await ensureRole(admin, APP, `LOGIN NOINHERIT PASSWORD ${pg.escapeLiteral(opts.appPassword)}`);
    await ensureRole(admin, TENANT, "NOLOGIN");
    await admin.query(`GRANT ${TENANT} TO ${APP}`);

    const db = pg.escapeIdentifier(opts.database);
    const found = await admin.query("select 1 from pg_database where datname = $1", [opts.database]);
    if (found.rowCount === 0) {
      await ignoreDuplicate(admin.query(`CREATE DATABASE ${db} OWNER ${OWNER}`));
    }
    await admin.query(`ALTER DATABASE ${db} OWNER TO ${OWNER}`);
    // New databases let PUBLIC create temporary tables; the app roles have no use for them.
    await admin.query(`REVOKE TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
    await prepareSchema(withDatabase(opts.adminUrl, opts.database));
  } finally {
    await admin.end();
  }
}

async function ensureRole(admin: pg.Client, role: string, attributes: string): Promise<void> {
  const found = await admin.query("select 1 from pg_roles where rolname = $1", [role]);
  if (found.rowCount === 0) await ignoreDuplicate(admin.query(`CREATE ROLE ${role}`));
  // Reset the attributes that could defeat row-level security on a role left over from a
  // hand-made setup.
  await admin.query(`ALTER ROLE ${role} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS ${attributes}`);
}

async function prepareSchema(databaseUrl: string): Promise<void> {
  const client = newClient(databaseUrl);
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS vector").catch((error: { code?: string }) => {
      // 0A000 "extension is not available"; older minor releases said 58P01 (no control file).
      if (error.code !== "58P01" && error.code !== "0A000") throw error;
      throw new Error(
        "pgvector is not installed on this PostgreSQL server: run scripts/local-stack/install-pgvector.sh as root",
        { cause: error },
      );
    });
    // PostgreSQL 15 already denies CREATE on public to PUBLIC; taking USAGE too keeps other
    // roles on a shared server away from our tables even if a grant slips through.
    await client.query(`
      ALTER SCHEMA public OWNER TO ${OWNER};
      REVOKE ALL ON SCHEMA public FROM PUBLIC;
      GRANT USAGE, CREATE ON SCHEMA public TO ${OWNER};
      GRANT USAGE ON SCHEMA public TO ${TENANT}, ${APP};
    `);
  } finally {
    await client.end();
  }
}

/** Swallows the error a concurrent creator outside our advisory lock would cause. */
async function ignoreDuplicate(query: Promise<unknown>): Promise<void> {
  try {
    await query;
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 42710 duplicate_object, 42P04 duplicate_database, 23505 unique_violation (catalog race)
    if (code !== "42710" && code !== "42P04" && code !== "23505") throw error;
  }
}

function newClient(url: string, timeoutMs?: number): pg.Client {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs ?? 10_000,
    ...(timeoutMs === undefined ? {} : { query_timeout: timeoutMs }),
  });
  // A server restart between queries emits "error"; unhandled it would kill the process,
  // while the pending or next query rejects anyway.
  client.on("error", () => undefined);
  return client;
}

function withDatabase(url: string, database: string): string {
  // pg accepts `postgres://user@/db?host=/dir`, which WHATWG URL rejects (empty host).
  const placeholder = "@placeholder.invalid/";
  const emptyHost = url.includes("@/");
  const parsed = new URL(emptyHost ? url.replace("@/", placeholder) : url);
  parsed.pathname = `/${database}`;
  return emptyHost ? parsed.href.replace(placeholder, "@/") : parsed.href;
}
