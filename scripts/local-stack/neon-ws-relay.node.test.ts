import { createServer } from "node:net";
import { Client } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { throughLocalRelay } from "../../db/client.ts";
import { type NeonWsRelay, startNeonWsRelay } from "./neon-ws-relay.ts";
import { isReachable } from "./postgres.ts";

/**
 * The relay's session pooling against the machine's PostgreSQL (trust auth on 127.0.0.1:5432),
 * through the real driver. Each test has a relay of its own and tags its connections with an
 * application_name of its own (part of the startup packet, so of the pool key). What happens on
 * the PostgreSQL side is checked on a direct superuser connection.
 */

const TARGET = "127.0.0.1:5432";
const BASE = `postgres://postgres@${TARGET}/postgres`;
const serverMissing = !(await isReachable(BASE));

interface DriverInternals {
  processID: number;
  secretKey: number;
  connection: { stream: { ws: WebSocket } };
}

describe.skipIf(serverMissing)("the Neon relay's session pool", () => {
  let relay: NeonWsRelay;
  let direct: pg.Client;
  const clients: Client[] = [];
  let tag = "";

  beforeAll(async () => {
    direct = new pg.Client({ connectionString: BASE });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
  });
  // A relay of its own for each test, so its pool (and idleConnections) holds that test's backends only.
  beforeEach(async () => {
    relay = await startNeonWsRelay({ allowedTargets: [TARGET] });
    tag = `relay-pool-${crypto.randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    // pg's end() waits for a close that a connection which died earlier never reports again.
    const gone = new Promise((resolve) => setTimeout(resolve, 1000));
    await Promise.all(clients.splice(0).map((c) => Promise.race([c.end().catch(() => undefined), gone])));
    await relay.close();
  });

  /** A driver connection through the relay, as db/client.ts `connect` makes one. */
  async function open(
    opts: { user?: string; database?: string; app?: string; via?: NeonWsRelay; target?: string } = {},
  ) {
    const url = new URL(BASE);
    url.host = opts.target ?? TARGET;
    url.username = opts.user ?? "postgres";
    url.pathname = `/${opts.database ?? "postgres"}`;
    url.searchParams.set("application_name", opts.app ?? tag);
    const client = new Client(url.toString());
    client.neonConfig.webSocketConstructor = WebSocket;
    throughLocalRelay(client, (opts.via ?? relay).address);
    client.on("error", () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  }

  async function pidOf(client: Client): Promise<number> {
    return Number((await client.query("select pg_backend_pid() as pid")).rows[0]?.pid);
  }

  async function end(client: Client) {
    clients.splice(clients.indexOf(client), 1);
    await client.end();
  }

  /** Ends a client and waits until its backend is idle in the pool. */
  async function leave(client: Client, pooled = relay.idleConnections + 1) {
    await end(client);
    await expect.poll(() => relay.idleConnections, { timeout: 5_000 }).toBe(pooled);
  }

  async function backendAlive(pid: number): Promise<boolean> {
    const { rows } = await direct.query("select count(*)::int as n from pg_stat_activity where pid = $1", [
      pid,
    ]);
    return rows[0]?.n === 1;
  }

  it("hands the next client the same backend, with its real handshake", async () => {
    const first = await open();
    const pid = await pidOf(first);
    // The extended protocol (Parse, Bind, Execute, Sync) as well as simple queries.
    expect((await first.query("select $1::int + 1 as n", [41])).rows[0]?.n).toBe(42);
    const { rows: started } = await direct.query(
      "select backend_start from pg_stat_activity where pid = $1",
      [pid],
    );
    await leave(first);

    const second = await open();
    expect(await pidOf(second)).toBe(pid);
    // The replayed BackendKeyData is the backend's own, so a cancel request would reach it.
    expect((second as unknown as DriverInternals).processID).toBe(pid);
    const { rows } = await second.query(
      "select current_setting('application_name') as app, current_user as me",
    );
    expect(rows[0]).toEqual({ app: tag, me: "postgres" });
    const { rows: now } = await direct.query("select backend_start from pg_stat_activity where pid = $1", [
      pid,
    ]);
    expect(now[0]?.backend_start).toEqual(started[0]?.backend_start);
    expect(relay.idleConnections).toBe(0);
  });

  it("hands on no session state: settings, temp tables, prepared statements, locks, LISTEN, role", async () => {
    const first = await open();
    const pid = await pidOf(first);
    const table = `relay_temp_${crypto.randomUUID().slice(0, 8)}`;
    await first.query("set statement_timeout = '1234s'");
    await first.query("select set_config('app.tenant_id', 'leaked', false)");
    await first.query(`create temp table ${table} (x int)`);
    await first.query({ name: "relay_prepared", text: "select 1" });
    await first.query("prepare relay_sql_prepared as select 2");
    await first.query("select pg_advisory_lock(424242)");
    await first.query("listen relay_channel");
    await first.query("set session authorization meridian_owner");
    await leave(first);

    const second = await open();
    expect(await pidOf(second)).toBe(pid);
    const { rows } = await second.query(
      `select current_setting('statement_timeout') as timeout,
              current_setting('app.tenant_id', true) as tenant,
              (select count(*)::int from pg_class where relname = $1) as temp_tables,
              (select count(*)::int from pg_prepared_statements) as prepared,
              (select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()) as locks,
              (select count(*)::int from pg_listening_channels()) as channels,
              session_user as who`,
      [table],
    );
    expect(rows[0]).toMatchObject({ timeout: "0", temp_tables: 0, prepared: 0, locks: 0, channels: 0 });
    expect(rows[0]?.who).toBe("postgres");
    // A placeholder once set reads as '' after RESET, as after a transaction-local set_config.
    expect(["", null]).toContain(rows[0]?.tenant);
  });

  it.each([
    ["open (T), as Meridian leaves a read-only transaction", "select 1"],
    ["aborted (E)", "select 1/0"],
  ])("rolls back a transaction the client left %s", async (_, statement) => {
    const table = `relay_tx_${crypto.randomUUID().slice(0, 8)}`;
    const first = await open();
    const pid = await pidOf(first);
    await first.query("begin");
    // DDL is transactional: the table exists after the reset only if the transaction committed.
    await first.query(`create table ${table} (x int)`);
    await first.query(statement).catch(() => undefined);
    await leave(first);

    try {
      const second = await open();
      expect(await pidOf(second)).toBe(pid);
      expect((await second.query("select to_regclass($1) as t", [table])).rows[0]?.t).toBeNull();
      // Not in a transaction block: SAVEPOINT refuses to run outside one.
      await expect(second.query("savepoint s")).rejects.toThrow(/transaction block/);
    } finally {
      await direct.query(`drop table if exists ${table}`);
    }
  });

  it("keeps the backend of a client that left between an ErrorResponse and its ReadyForQuery", async () => {
    // The driver rejects on the ErrorResponse, so its end() can overtake the ReadyForQuery
    // PostgreSQL sends right after. A stand-in server makes that order certain.
    const slow = await startSlowErrorServer();
    const own = await startNeonWsRelay({ allowedTargets: [slow.address] });
    try {
      const first = await open({ via: own, target: slow.address });
      await expect(first.query("select 1/0")).rejects.toThrow(/division by zero/);
      await end(first);
      await expect.poll(() => own.idleConnections, { timeout: 5_000 }).toBe(1);
      // The relay sent its reset before the owed ReadyForQuery came, and waited for it.
      expect(slow.log).toEqual(["select 1/0", "ROLLBACK", "DISCARD ALL", "ReadyForQuery after the error"]);
      await open({ via: own, target: slow.address });
      expect(slow.connections).toBe(1);
      expect(own.idleConnections).toBe(0);
    } finally {
      await own.close();
      await slow.close();
    }
  });

  it("keeps a backend whose client read a large result under back-pressure", async () => {
    const first = await open();
    const pid = await pidOf(first);
    // 8 MB: far above the relay's high-water mark, so it paused PostgreSQL on the way.
    const { rowCount } = await first.query("select repeat('x', 1000) from generate_series(1, 8000)");
    expect(rowCount).toBe(8000);
    await leave(first);
    const second = await open();
    expect(await pidOf(second)).toBe(pid);
  });

  it.each([
    [
      "its WebSocket is cut",
      (c: Client) => (c as unknown as DriverInternals).connection.stream.ws.terminate(),
    ],
    ["it ends while the query runs", (c: Client) => void c.end().catch(() => undefined)],
  ])("never hands on a backend whose client left mid-query: %s", async (_, go) => {
    const first = await open();
    const pid = await pidOf(first);
    const sleeping = first.query("select pg_sleep(1)").catch(() => "lost");
    await expect
      .poll(async () => {
        const { rows } = await direct.query("select query from pg_stat_activity where pid = $1", [pid]);
        return rows[0]?.query;
      })
      .toBe("select pg_sleep(1)");
    go(first);
    await sleeping;
    const second = await open();
    expect(await pidOf(second)).not.toBe(pid);
    // The relay cut the connection: the backend exits once its sleep is over, pooled by nobody.
    await expect.poll(() => backendAlive(pid), { timeout: 5_000, interval: 100 }).toBe(false);
    expect(relay.idleConnections).toBe(0);
  });

  it("never shares a backend across startup parameters", async () => {
    const first = await open();
    const pid = await pidOf(first);
    await leave(first);
    const others = await Promise.all([
      open({ app: `${tag}-other` }),
      open({ user: "meridian_owner" }),
      open({ database: "template1" }),
    ]);
    for (const other of others) expect(await pidOf(other)).not.toBe(pid);
    expect(relay.idleConnections).toBe(1);
    expect(await pidOf(await open())).toBe(pid);
  });

  it("gives concurrent clients their own backends, and reuses them all afterwards", async () => {
    const firsts = await Promise.all(Array.from({ length: 5 }, () => open()));
    const pids = await Promise.all(firsts.map(pidOf));
    expect(new Set(pids).size).toBe(5);
    await Promise.all(firsts.map(end));
    await expect.poll(() => relay.idleConnections, { timeout: 5_000 }).toBe(5);
    const seconds = await Promise.all(Array.from({ length: 5 }, () => open()));
    expect((await Promise.all(seconds.map(pidOf))).sort()).toEqual([...pids].sort());
  });

  it("drops a pooled backend that PostgreSQL ended while it was idle", async () => {
    const first = await open();
    const pid = await pidOf(first);
    await leave(first);
    await direct.query("select pg_terminate_backend($1)", [pid]);
    await expect.poll(() => relay.idleConnections, { timeout: 5_000 }).toBe(0);
    const second = await open();
    expect(await pidOf(second)).not.toBe(pid);
    expect((await second.query("select 1 as one")).rows[0]?.one).toBe(1);
  });

  it("relays a cancel request to a pooled backend, which stays poolable", async () => {
    const first = await open();
    const pid = await pidOf(first);
    await leave(first);
    const second = await open();
    expect(await pidOf(second)).toBe(pid);
    const sleeping = second.query("select pg_sleep(30)");
    await expect
      .poll(
        async () => (await direct.query("select state from pg_stat_activity where pid = $1", [pid])).rows[0],
      )
      .toEqual({ state: "active" });
    // A CancelRequest on a connection of its own, with the key the replayed handshake carried.
    const { processID, secretKey } = second as unknown as DriverInternals;
    const cancel = Buffer.alloc(16);
    cancel.writeInt32BE(16, 0);
    cancel.writeInt32BE(80877102, 4);
    cancel.writeInt32BE(processID, 8);
    cancel.writeInt32BE(secretKey, 12);
    const ws = new WebSocket(`ws://${relay.address}/v2?address=${TARGET}`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send(cancel);
    await expect(sleeping).rejects.toThrow(/canceling statement due to user request/);
    ws.close();
    await leave(second);
    expect(await pidOf(await open())).toBe(pid);
  });

  it("hands nothing on when a client sent Terminate before its answers", async () => {
    // What the driver never does but a client may: a query and Terminate in one message.
    const raw = new WebSocket(`ws://${relay.address}/v2?address=${TARGET}`);
    const received: Buffer[] = [];
    raw.on("message", (data) => received.push(data as Buffer));
    await new Promise((resolve) => raw.once("open", resolve));
    raw.send(startupPacket({ user: "postgres", database: "postgres", application_name: tag }));
    // The handshake ends with ReadyForQuery: 'Z', length 5, status 'I'.
    await expect.poll(() => Buffer.concat(received).subarray(-6).toString("latin1")).toBe("Z\0\0\0\x05I");
    const pid = backendKeyPid(Buffer.concat(received));
    expect(await backendAlive(pid)).toBe(true);
    raw.send(Buffer.concat([queryMessage("select pg_sleep(0.2)"), message("X", Buffer.alloc(0))]));
    await new Promise((resolve) => raw.once("close", resolve));
    await expect.poll(() => backendAlive(pid), { timeout: 5_000, interval: 100 }).toBe(false);
    expect(relay.idleConnections).toBe(0);
  });

  it("pools nothing with `pool: false`", async () => {
    const unpooled = await startNeonWsRelay({ allowedTargets: [TARGET], pool: false });
    try {
      const first = await open({ via: unpooled });
      const pid = await pidOf(first);
      await end(first);
      const second = await open({ via: unpooled });
      expect(await pidOf(second)).not.toBe(pid);
      await expect.poll(() => backendAlive(pid), { timeout: 5_000, interval: 100 }).toBe(false);
      expect(unpooled.idleConnections).toBe(0);
      await end(second);
    } finally {
      await unpooled.close();
    }
  });

  it("closes its idle backends on close()", async () => {
    const own = await startNeonWsRelay({ allowedTargets: [TARGET] });
    const first = await open({ via: own });
    const pid = await pidOf(first);
    await end(first);
    await expect.poll(() => own.idleConnections, { timeout: 5_000 }).toBe(1);
    await own.close();
    await expect.poll(() => backendAlive(pid), { timeout: 5_000, interval: 100 }).toBe(false);
  });
});

function startupPacket(params: Record<string, string>): Buffer {
  const body = Buffer.from(`${Object.entries(params).flat().join("\0")}\0\0`, "utf8");
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

/** A wire-protocol message: its type, an int32 length that counts itself, the body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function queryMessage(sql: string): Buffer {
  return message("Q", Buffer.from(`${sql}\0`, "utf8"));
}

function int32s(...values: number[]): Buffer {
  const bytes = Buffer.alloc(4 * values.length);
  for (const [i, value] of values.entries()) bytes.writeInt32BE(value, 4 * i);
  return bytes;
}

/** The process id in a handshake's BackendKeyData ('K', length 12, pid, secret). */
function backendKeyPid(handshake: Buffer): number {
  for (let at = 0; at + 5 <= handshake.length; at += 1 + handshake.readInt32BE(at + 1)) {
    if (handshake[at] === 0x4b) return handshake.readInt32BE(at + 5);
  }
  throw new Error("no BackendKeyData in the handshake");
}

/**
 * A PostgreSQL stand-in, trust auth: `select 1/0` gets its ErrorResponse at once and its
 * ReadyForQuery 200 ms later; any other Query a CommandComplete and ReadyForQuery. `log` holds
 * the queries and when the late ReadyForQuery went out.
 */
async function startSlowErrorServer() {
  const ready = message("Z", Buffer.from("I"));
  const log: string[] = [];
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let buffered = Buffer.alloc(0);
    let started = false;
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headLength = started ? 1 : 0;
        if (buffered.length < headLength + 4) return;
        const size = headLength + buffered.readInt32BE(headLength);
        if (buffered.length < size) return;
        const type = started ? String.fromCharCode(buffered[0] as number) : "startup";
        const body = buffered.subarray(headLength + 4, size);
        buffered = buffered.subarray(size);
        if (type === "startup") {
          started = true;
          socket.write(Buffer.concat([message("R", int32s(0)), message("K", int32s(4242, 1)), ready]));
        } else if (type === "Q") {
          const sql = body.toString("utf8", 0, body.length - 1);
          log.push(sql);
          if (sql === "select 1/0") {
            socket.write(message("E", Buffer.from("SERROR\0C22012\0Mdivision by zero\0\0")));
            setTimeout(() => {
              log.push("ReadyForQuery after the error");
              socket.write(ready);
            }, 200);
          } else socket.write(Buffer.concat([message("C", Buffer.from(`${sql}\0`)), ready]));
        } else if (type === "X") socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    log,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
