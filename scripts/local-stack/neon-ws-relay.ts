import { createServer } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { BackendPool, Session } from "./neon-relay-sessions.ts";

export interface NeonWsRelay {
  host: string;
  port: number;
  /** value for neonConfig.wsProxy-style "host:port" */
  address: string;
  /** PostgreSQL connections idle in the pool, waiting for a client (0 without pooling). */
  readonly idleConnections: number;
  close(): Promise<void>;
}

export interface NeonWsRelayOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** "host:port" targets the driver may ask for. @default ["127.0.0.1:5432", "localhost:5432"] */
  allowedTargets?: string[];
  /**
   * Session pooling, as PgBouncer's session mode: a PostgreSQL connection whose client left
   * between queries is reset (ROLLBACK when it was left in a transaction, then DISCARD ALL) and
   * handed to the next client whose startup packet is byte for byte the same, which gets the
   * connection's recorded handshake. In production the driver reaches Neon through its pooler
   * or Hyperdrive, which hand out warm connections; without pooling every local request would
   * also pay a backend fork and a cold backend. Only connections PostgreSQL let in without a
   * password are pooled.
   * @default true
   */
  pool?: boolean;
}

/** Stop reading from PostgreSQL while this much is still queued for the WebSocket client. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** How long an upstream whose client left may take to close by itself before it is cut. */
const ABANDONED_UPSTREAM_GRACE_MS = 1000;
/** PostgreSQL's own limit (MAX_STARTUP_PACKET_LENGTH); a longer "startup packet" is relayed as is. */
const MAX_STARTUP_BYTES = 10_000;
const PROTOCOL_3 = 196_608;
const POLICY_VIOLATION = 1008;
const INTERNAL_ERROR = 1011;

/**
 * Starts a relay that speaks Neon's wsproxy protocol, so the `@neondatabase/serverless` driver
 * (which only talks WebSocket) can reach a plain PostgreSQL: the driver opens
 * `ws://HOST:PORT/v2?address=pghost:pgport` and sends raw wire-protocol bytes. With `pool` (the
 * default) connections are reused across clients, see {@link NeonWsRelayOptions.pool}.
 *
 * @throws the listen error (e.g. EADDRINUSE for a fixed port).
 * @example
 * const relay = await startNeonWsRelay();
 * neonConfig.wsProxy = (host, port) => `${relay.address}/v2?address=${host}:${port}`;
 * await relay.close();
 */
export async function startNeonWsRelay(opts: NeonWsRelayOptions = {}): Promise<NeonWsRelay> {
  const host = opts.host ?? "127.0.0.1";
  const allowed = new Set((opts.allowedTargets ?? ["127.0.0.1:5432", "localhost:5432"]).map(normalise));
  const pool = opts.pool === false ? undefined : new BackendPool();
  /** Every PostgreSQL connection: in use, being reset or idle in the pool. */
  const upstreams = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade required\n");
  });

  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://relay");
    // Browsers always send Origin and WebSockets skip CORS, so any web page could otherwise
    // reach a trust-auth PostgreSQL through us. The driver in workerd and Node sends none.
    if (req.headers.origin !== undefined || (url.pathname !== "/v1" && url.pathname !== "/v2")) {
      socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, url.searchParams.get("address") ?? ""));
  });

  function accept(ws: WebSocket, target: string): void {
    if (!allowed.has(normalise(target))) {
      ws.close(POLICY_VIOLATION, `target not allowed: ${target}`.slice(0, 120));
      return;
    }
    if (!pool) {
      pipe(ws, open(target));
      return;
    }
    // The startup packet picks the connection: its bytes (user, database, options) are the pool
    // key. Until it is complete nothing is connected; the driver sends it as soon as the socket opens.
    ws.on("error", () => undefined); // 'close' follows, and there is nothing to clean up yet
    let received = Buffer.alloc(0);
    const onStartup = (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (received.length < 8) return;
      const length = received.readInt32BE(0);
      const startup = received.readInt32BE(4) === PROTOCOL_3 && length >= 8 && length <= MAX_STARTUP_BYTES;
      if (startup && received.length < length) return;
      ws.off("message", onStartup);
      if (ws.readyState !== ws.OPEN) return;
      // A CancelRequest or SSLRequest, anything else, or data sent behind the startup packet
      // before PostgreSQL answered it (a pipelined password): relayed as is, never pooled.
      if (!startup || received.length > length) {
        const upstream = open(target);
        upstream.write(received);
        pipe(ws, upstream);
        return;
      }
      const key = `${normalise(target)} ${received.toString("latin1")}`;
      const idle = pool.take(key);
      if (idle) {
        // The connection's own handshake, BackendKeyData included, so cancel requests reach it.
        ws.send(idle.handshake);
        pipe(ws, idle.socket, new Session(key, idle.handshake));
        return;
      }
      const upstream = open(target);
      upstream.write(received);
      pipe(ws, upstream, new Session(key));
    };
    ws.on("message", onStartup);
  }

  function open(target: string): Socket {
    const separator = target.lastIndexOf(":");
    const upstream = connect({
      host: target.slice(0, separator).replace(/^\[(.*)\]$/, "$1"),
      port: Number(target.slice(separator + 1)),
    });
    upstreams.add(upstream);
    upstream.setNoDelay(true);
    // Whoever holds the connection learns of a failure from 'close', which follows every 'error'.
    upstream.on("error", () => undefined);
    upstream.on("close", () => upstreams.delete(upstream));
    return upstream;
  }

  /**
   * Relays bytes both ways between a client and its PostgreSQL connection. With a `session` the
   * connection goes back to the pool if its client leaves between queries.
   */
  function pipe(ws: WebSocket, upstream: Socket, session?: Session): void {
    let attached = true;
    const toClient = (chunk: Buffer) => {
      session?.fromServer(chunk);
      if (ws.readyState !== ws.OPEN) return; // client gone: discard, so PostgreSQL can finish writing
      ws.send(chunk, () => {
        if (attached && upstream.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES) upstream.resume();
      });
      if (ws.bufferedAmount >= HIGH_WATER_BYTES) upstream.pause();
    };
    const resumeClient = () => ws.resume();
    const failed = (error: Error) => {
      if (ws.readyState === ws.OPEN) ws.close(INTERNAL_ERROR, `upstream: ${error.message}`.slice(0, 120));
    };
    const closed = () => {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    };
    upstream.on("data", toClient);
    upstream.on("drain", resumeClient);
    upstream.on("error", failed);
    upstream.on("close", closed);

    /** The client is gone (Terminate, close or error): pool the connection if it can be, else close it. */
    const leave = () => {
      if (!attached) return;
      attached = false;
      if (pool && session?.reusable) {
        upstream.off("data", toClient);
        upstream.off("drain", resumeClient);
        upstream.off("error", failed);
        upstream.off("close", closed);
        pool.release(upstream, session.key, session.handshake, session.status);
        // PostgreSQL closes the connection after Terminate, and some clients wait for that.
        if (ws.readyState === ws.OPEN) ws.close(1000);
        return;
      }
      // end(), not destroy(): the driver's Terminate message may still be in flight. A backend
      // still writing a large result to a paused socket would wait forever, so drain what it
      // sends and cut the connection if it has not closed by itself shortly after.
      upstream.end();
      upstream.resume();
      setTimeout(() => upstream.destroy(), ABANDONED_UPSTREAM_GRACE_MS).unref();
    };
    ws.on("message", (data) => {
      if (!attached) return;
      // binaryType is "nodebuffer", so a message (even a fragmented one) arrives as a Buffer.
      const chunk = data as Buffer;
      const terminateAt = session ? session.fromClient(chunk) : -1;
      if (terminateAt >= 0 && session?.reusable) {
        // Whatever came before the Terminate completes messages PostgreSQL already has the start of.
        if (terminateAt > 0) upstream.write(chunk.subarray(0, terminateAt));
        leave();
        return;
      }
      if (!upstream.write(chunk)) ws.pause();
    });
    ws.on("close", leave);
    ws.on("error", () => {
      // The session's state says whether the connection is clean, however the client went.
      if (session) leave();
      else upstream.destroy();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    host,
    port,
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    get idleConnections() {
      return pool?.size ?? 0;
    },
    async close() {
      pool?.close();
      for (const ws of wss.clients) ws.terminate();
      for (const upstream of upstreams) upstream.destroy();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function normalise(target: string): string {
  const separator = target.lastIndexOf(":");
  const host = target
    .slice(0, separator)
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  return `${host}:${Number(target.slice(separator + 1))}`;
}
