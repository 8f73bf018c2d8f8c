import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketHandler } from "@electric-sql/pglite-socket";
import { SessionGate } from "./pglite-gate.ts";

export interface EmbeddedPostgresOptions {
  /**
   * Directory to keep the data in across runs (`npm run dev` uses `.meridian/pglite`).
   * @default undefined: in memory, gone when the process ends (tests)
   */
  dataDir?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** See {@link SessionGate}. @default 10_000 */
  idleInTransactionTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  host: string;
  port: number;
  /** PGlite has one database, made by its initdb. */
  database: "postgres";
  /** Superuser URL (`postgres`, no password) for {@link ensureDatabase}. */
  adminUrl: string;
  /** PostgreSQL and pgvector versions, for the start-up line. */
  version: string;
  close(): Promise<void>;
}

/** PGlite has no connection limit of its own; this only bounds a runaway client. */
const MAX_CONNECTIONS = 200;

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly, with pgvector) and serves it over TCP with
 * pglite-socket's protocol handler, so the ordinary path works unchanged: `ensureDatabase`,
 * migrations as `meridian_owner`, and the Neon WebSocket relay in front. For a machine with
 * no PostgreSQL server; not for tests of concurrency, locking or performance (see
 * {@link SessionGate} for what one shared session can and cannot pretend).
 *
 * Differences from the servers: PostgreSQL 18 instead of 15 (CI runs 15, so 16+-only SQL
 * passes here and fails there), one database (`postgres`), passwords are not checked.
 *
 * @throws Error when `dataDir` is in use by another running process.
 * @example
 * const pg = await startEmbeddedPostgres({ dataDir: ".meridian/pglite" });
 * await ensureDatabase({ adminUrl: pg.adminUrl, database: pg.database, ownerPassword, appPassword });
 * await pg.close();
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const unlock = opts.dataDir ? lockDataDir(opts.dataDir) : () => undefined;
  let db: PGlite;
  try {
    db = await PGlite.create({ ...(opts.dataDir ? { dataDir: opts.dataDir } : {}), extensions: { vector } });
  } catch (error) {
    unlock();
    throw error;
  }
  const gate = new SessionGate(db, {
    database: "postgres",
    ...(opts.idleInTransactionTimeoutMs === undefined
      ? {}
      : { idleInTransactionTimeoutMs: opts.idleInTransactionTimeoutMs }),
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // The handler types its queue as pglite-socket's own (unexported, with private fields) class;
    // it only calls the four methods of HandlerQueue, which the gate implements.
    const handler = new PGLiteSocketHandler({ queryQueue: gate as never, closeOnDetach: true });
    gate.register(handler.handlerId, socket);
    // Errors surface to the client as a closed connection; the handler cleans up on its own.
    handler.addEventListener("error", () => undefined);
    void handler.attach(socket);
  });
  server.maxConnections = MAX_CONNECTIONS;
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const { rows } = await db.query<{ version: string }>(
    "select current_setting('server_version') || ', pgvector ' || coalesce((select default_version from pg_available_extensions where name = 'vector'), '?') as version",
  );

  return {
    host,
    port,
    database: "postgres",
    adminUrl: `postgres://postgres@${host}:${port}/postgres`,
    version: rows[0]?.version ?? "?",
    async close() {
      gate.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close().catch(() => undefined);
      unlock();
    },
  };
}

/**
 * Two processes writing one PGlite directory corrupt it (`npm run dev` twice, or dev plus a
 * script pointed at the same directory). A lock file with the owner's pid guards it; a lock
 * left by a process that no longer runs is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, "..", `${dataDir.split(/[\\/]/).filter(Boolean).pop()}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(lockFile, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
        throw new Error(
          `embedded PostgreSQL: ${dataDir} is in use by process ${pid} (another \`npm run dev\`?); stop it first`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`embedded PostgreSQL: could not lock ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}
