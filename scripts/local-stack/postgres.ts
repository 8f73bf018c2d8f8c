import { existsSync } from "node:fs";
import pg from "pg";
import {
  SAMPLE_DATABASE,
  SAMPLE_OWNER,
  SAMPLE_READER,
  SAMPLE_SCHEMA_SQL,
  SAMPLE_TABLES,
  SAMPLE_VERSION,
  type SampleTable,
  sampleRows,
} from "../../mcp/servers/database/sample-data.ts";

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
    // New databases let PUBLIC connect and create temporary tables. The app roles have no use
    // for temporary tables, and no other login (such as the sample database's reader) may connect.
    await admin.query(`REVOKE TEMPORARY, CONNECT ON DATABASE ${db} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT ON DATABASE ${db} TO ${APP}`);
    await prepareSchema(withDatabase(opts.adminUrl, opts.database));
  } finally {
    await admin.end();
  }
}

export interface EnsureSampleDatabaseOptions {
  /** Superuser URL, as for {@link ensureDatabase}. */
  adminUrl: string;
  /** Password for `meridian_sample_reader`. */
  readerPassword: string;
}

/** Most sessions the sample reader may hold at once: a shared database, so one tenant can't take all. */
const SAMPLE_READER_CONNECTIONS = 20;

/**
 * Creates (idempotently) the shared sample database of the built-in `database` MCP server
 * (`meridian_sample`, see mcp/servers/database/sample-data.ts) and its login
 * `meridian_sample_reader`, which may connect to that database and SELECT its tables and nothing
 * else: the tables belong to a NOLOGIN role, PUBLIC loses CONNECT and TEMPORARY on the database
 * and everything on schema `public`, and the Meridian databases refuse PUBLIC connections (see
 * {@link ensureDatabase}). The data is reloaded only when its version changed. Run as a superuser.
 *
 * @throws the driver's error.
 * @example
 * await ensureSampleDatabase({ adminUrl: superuserUrl(), readerPassword });
 */
export async function ensureSampleDatabase(opts: EnsureSampleDatabaseOptions): Promise<void> {
  const admin = newClient(opts.adminUrl);
  await admin.connect();
  try {
    await admin.query("select pg_advisory_lock(hashtext($1))", [`${LOCK_KEY}:${SAMPLE_DATABASE}`]);
    await ensureRole(admin, SAMPLE_OWNER, "NOLOGIN");
    await ensureRole(
      admin,
      SAMPLE_READER,
      `LOGIN NOINHERIT CONNECTION LIMIT ${SAMPLE_READER_CONNECTIONS} PASSWORD ${pg.escapeLiteral(opts.readerPassword)}`,
    );
    // Defaults only: the MCP server opens its own READ ONLY transaction with its own timeout.
    await admin.query(`ALTER ROLE ${SAMPLE_READER} SET default_transaction_read_only = on`);
    await admin.query(`ALTER ROLE ${SAMPLE_READER} SET statement_timeout = '10s'`);
    const found = await admin.query("select 1 from pg_database where datname = $1", [SAMPLE_DATABASE]);
    if (found.rowCount === 0) {
      await ignoreDuplicate(admin.query(`CREATE DATABASE ${SAMPLE_DATABASE} OWNER ${SAMPLE_OWNER}`));
    }
    await admin.query(`ALTER DATABASE ${SAMPLE_DATABASE} OWNER TO ${SAMPLE_OWNER}`);
    await admin.query(`REVOKE ALL ON DATABASE ${SAMPLE_DATABASE} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT ON DATABASE ${SAMPLE_DATABASE} TO ${SAMPLE_READER}`);
    await loadSample(withDatabase(opts.adminUrl, SAMPLE_DATABASE));
  } finally {
    await admin.end();
  }
}

async function loadSample(databaseUrl: string): Promise<void> {
  const client = newClient(databaseUrl);
  await client.connect();
  try {
    // Tenants share the reader role, and a role sees its own sessions' SQL in pg_stat_activity
    // and may cancel or terminate them: take both from PUBLIC in this database.
    await client.query(`
      ALTER SCHEMA public OWNER TO ${SAMPLE_OWNER};
      REVOKE ALL ON SCHEMA public FROM PUBLIC;
      GRANT USAGE ON SCHEMA public TO ${SAMPLE_READER};
      REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC;
      REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_get_activity(integer),
        pg_catalog.pg_cancel_backend(integer), pg_catalog.pg_terminate_backend(integer, bigint) FROM PUBLIC;
    `);
    const { rows } = await client.query<{ version: string | null }>(
      "select obj_description('public'::regnamespace, 'pg_namespace') as version",
    );
    if (rows[0]?.version !== SAMPLE_VERSION) await reloadSample(client);
    // Every run, not only after a reload: a reader role dropped and made again has no grants.
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${SAMPLE_READER}`);
  } finally {
    await client.end();
  }
}

async function reloadSample(client: pg.Client): Promise<void> {
  const data = sampleRows();
  try {
    await client.query("BEGIN");
    await client.query(`SET LOCAL ROLE ${SAMPLE_OWNER}`);
    await client.query(SAMPLE_SCHEMA_SQL);
    for (const [table, columns] of Object.entries(SAMPLE_TABLES) as [SampleTable, readonly string[]][]) {
      const values = data[table];
      const placeholders = values.map(
        (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`,
      );
      await client.query(
        `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${placeholders.join(", ")}`,
        values.flat(),
      );
      if (columns[0] === "id") {
        await client.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), $2)`, [table, values.length]);
      }
    }
    // Inside the transaction too, so no reader ever sees the new tables without the grant.
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${SAMPLE_READER}`);
    await client.query("RESET ROLE");
    await client.query(`COMMENT ON SCHEMA public IS ${pg.escapeLiteral(SAMPLE_VERSION)}`);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  // Row estimates for list_tables.
  await client.query("ANALYZE");
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
