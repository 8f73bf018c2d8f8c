import { randomBytes } from "node:crypto";
import { runMigrations } from "./migrate.ts";
import { startNeonWsRelay } from "./neon-ws-relay.ts";
import { ensureDatabase, isReachable, superuserUrl } from "./postgres.ts";
import { localSecrets } from "./secrets.ts";
import { startUpstashRelay } from "./upstash-relay.ts";

export interface LocalStackOptions {
  /** Database to create and migrate (e.g. "meridian" for dev, "meridian_test" for tests). */
  database: string;
  /** Fail instead of falling back to embedded stand-ins (CI). */
  requireServers?: boolean;
}

export interface LocalStack {
  kind: "server" | "embedded";
  /** String bindings for the Worker: database, Redis and fresh local secrets. */
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
 * default local ports.
 *
 * @throws Error when a server is required but unreachable.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const closers: (() => Promise<void>)[] = [];
  const describe: string[] = [];
  const adminUrl = process.env.DATABASE_URL ?? superuserUrl();
  if (!(await isReachable(adminUrl))) {
    throw new Error(
      `PostgreSQL is not reachable at ${redact(adminUrl)}. Start it or set DATABASE_URL to a superuser URL.`,
    );
  }
  await ensureDatabase({
    adminUrl,
    database: opts.database,
    ownerPassword: OWNER_PASSWORD,
    appPassword: APP_PASSWORD,
  });
  const tcp = tcpAddress(adminUrl.includes("@/") ? "postgres://127.0.0.1:5432" : adminUrl);
  const tcpBase = `postgres://${tcp.host}:${tcp.port}`;
  const ownerUrl = withCredentials(tcpBase, "meridian_owner", OWNER_PASSWORD, opts.database);
  await runMigrations(ownerUrl);
  const relay = await startNeonWsRelay({ port: 0, allowedTargets: [`${tcp.host}:${tcp.port}`] });
  closers.push(() => relay.close());
  describe.push(
    `PostgreSQL: server at ${tcp.host}:${tcp.port}/${opts.database} (Neon relay ${relay.address})`,
  );

  const redisBindings: Record<string, string> = {};
  if (process.env.UPSTASH_REDIS_REST_URL && process.env.UPSTASH_REDIS_REST_TOKEN) {
    redisBindings.UPSTASH_REDIS_REST_URL = process.env.UPSTASH_REDIS_REST_URL;
    redisBindings.UPSTASH_REDIS_REST_TOKEN = process.env.UPSTASH_REDIS_REST_TOKEN;
    describe.push(`Redis: Upstash at ${process.env.UPSTASH_REDIS_REST_URL}`);
  } else {
    const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const token = randomBytes(24).toString("base64url");
    const upstash = await startUpstashRelay({ redisUrl, token, port: 0 });
    closers.push(() => upstash.close());
    redisBindings.UPSTASH_REDIS_REST_URL = upstash.url;
    redisBindings.UPSTASH_REDIS_REST_TOKEN = upstash.token;
    describe.push(`Redis: server at ${redact(redisUrl)} (Upstash relay ${upstash.url})`);
  }

  return {
    kind: "server",
    ownerUrl,
    describe,
    bindings: {
      DATABASE_URL: withCredentials(tcpBase, "meridian_app", APP_PASSWORD, opts.database),
      NEON_WS_PROXY: relay.address,
      ...redisBindings,
      ...localSecrets(),
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
