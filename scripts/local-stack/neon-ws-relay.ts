import { createServer } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

export interface NeonWsRelay {
  host: string;
  port: number;
  /** value for neonConfig.wsProxy-style "host:port" */
  address: string;
  close(): Promise<void>;
}

export interface NeonWsRelayOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** "host:port" targets the driver may ask for. @default ["127.0.0.1:5432", "localhost:5432"] */
  allowedTargets?: string[];
}

/** Stop reading from PostgreSQL while this much is still queued for the WebSocket client. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** How long an upstream whose client left may take to close by itself before it is cut. */
const ABANDONED_UPSTREAM_GRACE_MS = 1000;
const POLICY_VIOLATION = 1008;
const INTERNAL_ERROR = 1011;

/**
 * Starts a relay that speaks Neon's wsproxy protocol, so the `@neondatabase/serverless`
 * driver (which only talks WebSocket) can reach a plain PostgreSQL: the driver opens
 * `ws://HOST:PORT/v2?address=pghost:pgport` and sends raw wire-protocol bytes.
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
    wss.handleUpgrade(req, socket, head, (ws) => pipe(ws, url.searchParams.get("address") ?? ""));
  });

  function pipe(ws: WebSocket, target: string): void {
    if (!allowed.has(normalise(target))) {
      ws.close(POLICY_VIOLATION, `target not allowed: ${target}`.slice(0, 120));
      return;
    }
    const separator = target.lastIndexOf(":");
    const upstream = connect({
      host: target.slice(0, separator).replace(/^\[(.*)\]$/, "$1"),
      port: Number(target.slice(separator + 1)),
    });
    upstreams.add(upstream);
    upstream.setNoDelay(true);

    upstream.on("data", (chunk) => {
      if (ws.readyState !== ws.OPEN) return; // client gone: discard, so PostgreSQL can finish writing
      ws.send(chunk, () => {
        if (upstream.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES) upstream.resume();
      });
      if (ws.bufferedAmount >= HIGH_WATER_BYTES) upstream.pause();
    });
    ws.on("message", (data) => {
      // binaryType is "nodebuffer", so a message (even a fragmented one) arrives as a Buffer.
      if (!upstream.write(data as Buffer)) ws.pause();
    });
    upstream.on("drain", () => ws.resume());

    upstream.on("error", (error) => {
      if (ws.readyState === ws.OPEN) ws.close(INTERNAL_ERROR, `upstream: ${error.message}`.slice(0, 120));
    });
    upstream.on("close", () => {
      upstreams.delete(upstream);
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });
    // end(), not destroy(): the driver's Terminate message may still be in flight. A backend
    // still writing a large result to a paused socket would wait forever, so drain what it sends
    // and cut the connection if it has not closed by itself shortly after.
    ws.on("close", () => {
      upstream.end();
      upstream.resume();
      setTimeout(() => upstream.destroy(), ABANDONED_UPSTREAM_GRACE_MS).unref();
    });
    ws.on("error", () => upstream.destroy());
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
    async close() {
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
