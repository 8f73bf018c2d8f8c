import { randomBytes } from "node:crypto";
import { SAMPLE_DATABASE, SAMPLE_READER } from "../../mcp/servers/database/sample-data.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { startEmbeddedRedis } from "./embedded-redis.ts";
import { runMigrations } from "./migrate.ts";
import { startModelServer } from "./model-server.ts";
import { startNeonWsRelay } from "./neon-ws-relay.ts";
import { ensureDatabase, ensureSampleDatabase, isReachable, superuserUrl } from "./postgres.ts";
import { localSecrets } from "./secrets.ts";
import { startUpstashRelay } from "./upstash-relay.ts";

export interface LocalStackOptions {
  /** Database to create and migrate (e.g. "meridian" for dev, "meridian_test" for tests). */
  database: string;
  /** Fail instead of falling back to embedded stand-ins (CI). */
  requireServers?: boolean;
  /**
   * Where embedded PostgreSQL keeps its data when no server is reachable (`npm run dev`:
   * `.meridian/pglite`, so the seeded tenant survives a restart).
   * @default undefined: in memory (tests)
   */
  embeddedDataDir?: string;
}

export interface LocalStack {
  kind: "server" | "embedded";
  /**
   * String bindings for the Worker: database (and, on a server, `SAMPLE_DATABASE_URL` for the
   * database MCP server), Redis and fresh local secrets.
   */
  bindings: Record<string, string>;
  /** Owner (migration role) URL of the database, for seeding and test inspection. */
  ownerUrl: string;
  /** One line per part: what is used and where. */
  describe: string[];
  close(): Promise<void>;
}

/** Local-only role passwords: the roles exist on a developer's own PostgreSQL only. */
const OWNER_PASSWORD = "meridian_owner_local";
const APP_PASSWORD = "meridian_app_local";
const SAMPLE_READER_PASSWORD = "meridian_sample_reader_local";

function tcpAddress(adminUrl: string): { host: string; port: number } {
  const url = new URL(adminUrl);
  const host = url.hostname && !url.hostname.startsWith("%2F") ? url.hostname : "127.0.0.1";
  return { host: host === "localhost" ? "127.0.0.1" : host, port: Number(url.port || 5432) };
}

function withCredentials(base: string, user: string, password: string, database: string): string {
  const url = new URL(base);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  url.search = "";
  return url.toString();
}

/**
 * Starts what the Worker needs locally: PostgreSQL (created, migrated, reached through the
 * Neon WebSocket relay) and Redis (behind the Upstash REST relay). Uses `DATABASE_URL` and
 * `REDIS_URL` (or `UPSTASH_REDIS_REST_URL`/`_TOKEN`) when set, else the servers on their
 * default local ports; where no server answers, embedded stand-ins (see {@link choosePostgres}).
 *
 * @throws Error when a server is required but unreachable.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const closers: (() => Promise<void>)[] = [];
  const describe: string[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  };
  try {
    const postgres = await choosePostgres(opts);
    closers.push(postgres.close);
    await ensureDatabase({
      adminUrl: postgres.adminUrl,
      database: postgres.database,
      ownerPassword: OWNER_PASSWORD,
      appPassword: APP_PASSWORD,
    });
    const tcpBase = `postgres://${postgres.host}:${postgres.port}`;
    const ownerUrl = withCredentials(tcpBase, "meridian_owner", OWNER_PASSWORD, postgres.database);
    await runMigrations(ownerUrl);
    // The database MCP server's sample database needs a second database, which PGlite lacks:
    // there the server answers "not configured" for calls that name no connection.
    let sample: Record<string, string> = {};
    if (postgres.kind === "server") {
      await ensureSampleDatabase({ adminUrl: postgres.adminUrl, readerPassword: SAMPLE_READER_PASSWORD });
      sample = {
        SAMPLE_DATABASE_URL: withCredentials(tcpBase, SAMPLE_READER, SAMPLE_READER_PASSWORD, SAMPLE_DATABASE),
      };
    }
    const relay = await startNeonWsRelay({ port: 0, allowedTargets: [`${postgres.host}:${postgres.port}`] });
    closers.push(() => relay.close());
    const sampleNote =
      postgres.kind === "server" ? `sample database ${SAMPLE_DATABASE}` : "no sample database";
    describe.push(`${postgres.describe} (Neon relay ${relay.address}; ${sampleNote})`);

    const redis = await chooseRedis(opts);
    closers.push(redis.close);
    describe.push(redis.describe);

    const model = await chooseModelProvider();
    closers.push(model.close);
    describe.push(model.describe);

    return {
      kind: postgres.kind === "embedded" || redis.kind === "embedded" ? "embedded" : "server",
      ownerUrl,
      describe,
      bindings: {
        DATABASE_URL: withCredentials(tcpBase, "meridian_app", APP_PASSWORD, postgres.database),
        NEON_WS_PROXY: relay.address,
        ...sample,
        ...redis.bindings,
        ...model.bindings,
        ...localSecrets(),
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Server or embedded. A newcomer with only Node gets PGlite and an in-memory Redis, and is told
// so; CI (`requireServers`) fails instead, because the stand-ins can't test concurrency, locking
// or real Redis behaviour.
// ---------------------------------------------------------------------------------------------

interface PostgresChoice {
  kind: "server" | "embedded";
  /** Superuser URL for ensureDatabase. */
  adminUrl: string;
  /** TCP address the relay and the roles' URLs point at. */
  host: string;
  port: number;
  /** The database to use: `opts.database` on a server, PGlite's only database otherwise. */
  database: string;
  describe: string;
  close(): Promise<void>;
}

/**
 * The PostgreSQL server at `DATABASE_URL` (or the local default) when it answers, else embedded
 * PGlite, persisted in `opts.embeddedDataDir` when given.
 *
 * @throws Error when no server answers and `opts.requireServers` is set.
 */
async function choosePostgres(opts: LocalStackOptions): Promise<PostgresChoice> {
  const adminUrl = process.env.DATABASE_URL ?? superuserUrl();
  if (await isReachable(adminUrl)) {
    const tcp = tcpAddress(adminUrl.includes("@/") ? "postgres://127.0.0.1:5432" : adminUrl);
    return {
      kind: "server",
      adminUrl,
      ...tcp,
      database: opts.database,
      describe: `PostgreSQL: server at ${tcp.host}:${tcp.port}/${opts.database}`,
      close: async () => undefined,
    };
  }
  if (opts.requireServers) {
    throw new Error(
      `PostgreSQL is not reachable at ${redact(adminUrl)}. Start it or set DATABASE_URL to a superuser URL (requireServers is set, so no embedded stand-in).`,
    );
  }
  const embedded = await startEmbeddedPostgres(opts.embeddedDataDir ? { dataDir: opts.embeddedDataDir } : {});
  const where = opts.embeddedDataDir ? `data in ${opts.embeddedDataDir}` : "in memory";
  return {
    kind: "embedded",
    adminUrl: embedded.adminUrl,
    host: embedded.host,
    port: embedded.port,
    // PGlite serves one database: `opts.database` would need a second backend it doesn't have.
    database: embedded.database,
    describe: `PostgreSQL: embedded PGlite (no server reachable at ${redact(adminUrl)}): PostgreSQL ${embedded.version}, ${where}, database "${embedded.database}", one transaction at a time`,
    close: () => embedded.close(),
  };
}

interface ServiceChoice {
  kind: "server" | "embedded";
  bindings: Record<string, string>;
  describe: string;
  close(): Promise<void>;
}

/**
 * Upstash itself when `UPSTASH_REDIS_REST_URL`/`_TOKEN` are set; else the Redis server at
 * `REDIS_URL` (or the local default) behind the relay when it answers; else the relay over an
 * in-memory emulation.
 *
 * @throws Error when no server answers and `opts.requireServers` is set.
 */
async function chooseRedis(opts: LocalStackOptions): Promise<ServiceChoice> {
  if (process.env.UPSTASH_REDIS_REST_URL && process.env.UPSTASH_REDIS_REST_TOKEN) {
    return {
      kind: "server",
      bindings: {
        UPSTASH_REDIS_REST_URL: process.env.UPSTASH_REDIS_REST_URL,
        UPSTASH_REDIS_REST_TOKEN: process.env.UPSTASH_REDIS_REST_TOKEN,
      },
      describe: `Redis: Upstash at ${process.env.UPSTASH_REDIS_REST_URL}`,
      close: async () => undefined,
    };
  }
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const token = randomBytes(24).toString("base64url");
  let unreachable: string;
  try {
    const upstash = await startUpstashRelay({ redisUrl, token, port: 0 });
    return {
      kind: "server",
      bindings: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token },
      describe: `Redis: server at ${redact(redisUrl)} (Upstash relay ${upstash.url})`,
      close: () => upstash.close(),
    };
  } catch (error) {
    unreachable = error instanceof Error ? error.message : String(error);
  }
  if (opts.requireServers) {
    throw new Error(
      `Redis is not reachable at ${redact(redisUrl)} (${unreachable}). Start it or set REDIS_URL (requireServers is set, so no embedded stand-in).`,
    );
  }
  const upstash = await startEmbeddedRedis({ token });
  return {
    kind: "embedded",
    bindings: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: upstash.token },
    describe: `Redis: embedded in-memory emulation (no server reachable at ${redact(redisUrl)}; Upstash relay ${upstash.url})`,
    close: () => upstash.close(),
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/**
 * Anthropic itself when `ANTHROPIC_API_KEY` is set (with `ANTHROPIC_BASE_URL` for a gateway),
 * else the local model server, which speaks the Messages API so the real SDK runs against it.
 */
async function chooseModelProvider(): Promise<ServiceChoice> {
  if (process.env.ANTHROPIC_API_KEY) {
    const baseUrl = process.env.ANTHROPIC_BASE_URL ?? "https://api.anthropic.com";
    return {
      kind: "server",
      bindings: { ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL: baseUrl },
      describe: `Anthropic: ${baseUrl} (ANTHROPIC_API_KEY is set)`,
      close: async () => undefined,
    };
  }
  const model = await startModelServer({ port: 0 });
  return {
    kind: "embedded",
    bindings: { ANTHROPIC_API_KEY: model.apiKey, ANTHROPIC_BASE_URL: model.url },
    describe: `Anthropic: local model server at ${model.url} (no ANTHROPIC_API_KEY)`,
    close: () => model.close(),
  };
}
