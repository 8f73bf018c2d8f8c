import { env } from "cloudflare:workers";
import type { Client } from "@neondatabase/serverless";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../../db/client";
import { parseConfig } from "../../env";
import { SharedConnections } from "./connections";

const pools: SharedConnections[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** A pool of real connections that counts what it opens. */
function pool(max?: number) {
  const config = parseConfig(env);
  const opened: Client[] = [];
  const connections = new SharedConnections(async () => {
    const client = await connect(config);
    opened.push(client);
    return client;
  }, max);
  pools.push(connections);
  return { connections, opened };
}

const backendPid = async (client: Client) =>
  Number((await client.query("select pg_backend_pid() as pid")).rows[0]?.pid);

describe("SharedConnections", () => {
  it("runs concurrent work on one connection, a transaction at a time", async () => {
    const { connections, opened } = pool();
    let inside = 0;
    let most = 0;
    const pids = await Promise.all(
      Array.from({ length: 5 }, () =>
        connections.use(async (client) => {
          most = Math.max(most, ++inside);
          const pid = await backendPid(client);
          inside--;
          return pid;
        }),
      ),
    );
    expect(opened).toHaveLength(1);
    expect(most).toBe(1);
    expect(new Set(pids).size).toBe(1);
  });

  it("opens up to its maximum when work overlaps, and no more", async () => {
    const { connections, opened } = pool(2);
    let release: (value?: unknown) => void = Boolean;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    const slow = [1, 2].map(() =>
      connections.use(async (client) => {
        await held;
        return backendPid(client);
      }),
    );
    const waiting = connections.use(backendPid);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opened).toHaveLength(2);
    release();
    const pids = await Promise.all([...slow, waiting]);
    expect(opened).toHaveLength(2);
    expect(pids[1]).not.toBe(pids[0]);
    expect(pids.slice(0, 2)).toContain(pids[2]);
  });

  it("drops a connection whose work failed, and the next work gets a fresh one", async () => {
    const { connections, opened } = pool();
    // The connection itself, not its backend: the local relay, like a production pooler, may
    // hand the fresh connection a warm backend that was reset.
    const first = await connections.use(async (client) => client);
    await expect(connections.use((client) => client.query("select 1/0"))).rejects.toThrow(/division by zero/);
    const next = await connections.use(async (client) => client);
    expect(opened).toEqual([first, next]);
    expect(next).not.toBe(first);
  });

  it("replaces a connection the server ended while it sat idle", async () => {
    const { connections, opened } = pool();
    const first = await connections.use(backendPid);
    // The same role may end its own backends; the table owner may not.
    const other = await connect(parseConfig(env));
    try {
      await other.query("select pg_terminate_backend($1)", [first]);
    } finally {
      await other.end();
    }
    // The driver learns of the closed socket asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await connections.use(backendPid);
    expect(opened).toHaveLength(2);
    expect(next).not.toBe(first);
  });

  it("fails the work that could not connect, not the work after it", async () => {
    let attempts = 0;
    const config = parseConfig(env);
    const connections = new SharedConnections(async () => {
      if (++attempts === 1) throw new Error("unreachable");
      return connect(config);
    });
    pools.push(connections);
    const [failed, worked] = await Promise.allSettled([
      connections.use(backendPid),
      connections.use(backendPid),
    ]);
    expect(failed).toMatchObject({ status: "rejected", reason: new Error("unreachable") });
    expect(worked).toMatchObject({ status: "fulfilled", value: expect.any(Number) });
  });
});
