import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, MultiErrorReply, RESP_TYPES } from "redis";

export interface UpstashRelay {
  /** Base URL to hand to `@upstash/redis` as `url`. */
  url: string;
  token: string;
  close(): Promise<void>;
}

/**
 * What the relay runs commands on: a Redis server ({@link connectRedisServer}) or the in-memory
 * emulation (`createRedisEmulation` in embedded-redis.ts). The relay does the rest: auth, the
 * Upstash JSON shapes, and the script rewrites for `@upstash/ratelimit`.
 */
export interface RedisBackend {
  /** Runs one command; rejects with an Error carrying Redis's message. */
  send(command: string[]): Promise<unknown>;
  /**
   * Runs the commands as one MULTI/EXEC: one reply each, an Error in place of a command that
   * failed at run time. Rejects, with nothing applied, where Redis would answer EXECABORT.
   */
  transaction(commands: string[][]): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface UpstashRelayOptions {
  /** Redis server to front; ignored when `backend` is given. */
  redisUrl?: string;
  /** Something else to front, e.g. the in-memory emulation. The relay closes it. */
  backend?: RedisBackend;
  /** Bearer token clients must send. */
  token: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
}

type Json = null | number | string | Json[];
type Outcome = { result: unknown } | { error: string };

// @upstash/ratelimit tags its scripts with `allow-key-locking`, a flag only Upstash knows, and
// Redis 7.0 then refuses the whole script. The line is blanked, not removed, so that Lua error
// messages keep the line numbers of the script the client sent.
const UPSTASH_SHEBANG = /^#!lua[^\n]*allow-key-locking[^\n]*/;
// These change the state of the one connection every caller shares; Upstash refuses them over REST too.
const CONNECTION_STATE = new Set(["MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SELECT", "RESET", "QUIT"]);
// Byte-exact bulk strings, so base64 encodes what Redis stored rather than a UTF-8 re-decoding.
const AS_BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

function refusal(command: string[]): string | undefined {
  const name = command[0]?.toUpperCase() ?? "";
  return CONNECTION_STATE.has(name) ? `ERR ${name} is not supported over REST` : undefined;
}

const sha1 = (text: string): string => createHash("sha1").update(text).digest("hex");
const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * Rewrites script commands for Redis 7.0. The client addresses scripts by the SHA1 of the text it
 * holds (shebang included), so `scripts` maps that SHA1 to the text Redis actually stored. An
 * unknown SHA1 goes through untouched: Redis answers NOSCRIPT itself and the client falls back to EVAL.
 */
function rewrite(command: string[], scripts: Map<string, string>): { args: string[]; reply?: string } {
  const [name = "", first, ...rest] = command;
  const strip = (script: string): string => {
    const stripped = script.replace(UPSTASH_SHEBANG, "");
    if (stripped !== script) scripts.set(sha1(script), stripped);
    return stripped;
  };
  const translate = (sha: string): string => {
    const stripped = scripts.get(sha.toLowerCase());
    return stripped === undefined ? sha : sha1(stripped);
  };
  if (first === undefined) return { args: command };
  switch (name.toUpperCase()) {
    case "EVAL":
    case "EVAL_RO":
      return { args: [name, strip(first), ...rest] };
    case "EVALSHA":
    case "EVALSHA_RO":
      return { args: [name, translate(first), ...rest] };
    case "SCRIPT": {
      const [script] = rest;
      if (first.toUpperCase() === "LOAD" && script !== undefined) {
        return { args: [name, first, strip(script)], reply: sha1(script) };
      }
      if (first.toUpperCase() === "EXISTS") return { args: [name, first, ...rest.map(translate)] };
    }
  }
  return { args: command };
}

/**
 * Upstash's JSON shape of a RESP2 reply. With base64 every string is encoded except a top-level
 * "OK": the client passes that one through but base64-decodes every string inside an array, so a
 * nested "OK" left plain would come back as "8".
 */
function encode(reply: unknown, base64: boolean, nested = false): Json {
  if (Array.isArray(reply)) return reply.map((item) => encode(item, base64, true));
  if (reply === null || reply === undefined || typeof reply === "number") return reply ?? null;
  const bytes = Buffer.isBuffer(reply)
    ? reply
    : Buffer.from(reply instanceof Error ? reply.message : String(reply));
  const text = bytes.toString("utf8");
  return base64 && (nested || text !== "OK") ? bytes.toString("base64") : text;
}

function toCommand(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const args = value.map((arg) =>
    typeof arg === "string" ? arg : typeof arg === "object" ? undefined : String(arg),
  );
  return args.every((arg) => arg !== undefined) ? args : undefined;
}

/**
 * Connects to a Redis server as a relay backend (RESP2, byte-exact strings).
 *
 * @throws the connection error when Redis can't be reached.
 * @example
 * const backend = await connectRedisServer("redis://127.0.0.1:6379");
 */
export async function connectRedisServer(redisUrl: string): Promise<RedisBackend> {
  let ready = false;
  const client = createClient({
    url: redisUrl,
    RESP: 2,
    // Fail callers at once while Redis is away instead of queueing them behind a reconnect.
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries, cause) => (ready ? Math.min(50 * 2 ** retries, 2_000) : cause) },
  });
  // node-redis emits "error" on every failed reconnect, and an unheard one would crash the test
  // runner; callers see the failure in their command's reply instead.
  client.on("error", () => undefined);
  await client.connect();
  ready = true;
  const redis = client.withTypeMapping(AS_BUFFERS);
  return {
    send: (command) => redis.sendCommand(command),
    async transaction(commands) {
      const multi = redis.multi();
      for (const command of commands) multi.sendCommand(command);
      // A command failing inside EXEC is one error among the replies, as in Upstash's answer.
      return multi.exec().catch((error: unknown) => {
        if (error instanceof MultiErrorReply) return error.replies;
        throw error;
      });
    },
    close: () => client.close(),
  };
}

/**
 * Serves the Upstash Redis REST protocol (`/`, `/pipeline`, `/multi-exec`) over a real Redis (or
 * another {@link RedisBackend}), so `@upstash/redis` and `@upstash/ratelimit` run unchanged
 * against a local server.
 *
 * @throws Error when Redis can't be reached at start.
 * @example
 * const relay = await startUpstashRelay({ redisUrl: "redis://127.0.0.1:6379", token: "local" });
 * const redis = new Redis({ url: relay.url, token: relay.token });
 * await relay.close();
 */
export async function startUpstashRelay(opts: UpstashRelayOptions): Promise<UpstashRelay> {
  if (!opts.backend && !opts.redisUrl) throw new Error("startUpstashRelay: give redisUrl or backend");
  const backend = opts.backend ?? (await connectRedisServer(opts.redisUrl as string));
  const scripts = new Map<string, string>();
  const expected = sha256(`Bearer ${opts.token}`);
  let syncToken = 0;

  const run = async (command: string[]): Promise<Outcome> => {
    const refused = refusal(command);
    if (refused) return { error: refused };
    const { args, reply } = rewrite(command, scripts);
    try {
      const result = await backend.send(args);
      return { result: reply ?? result };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };

  const transaction = async (commands: string[][]): Promise<Outcome[]> => {
    const refused = commands.map(refusal).find(Boolean);
    if (refused) throw new Error(refused);
    const rewritten = commands.map((command) => rewrite(command, scripts));
    const replies = await backend.transaction(rewritten.map(({ args }) => args));
    return replies.map((result, i) =>
      result instanceof Error ? { error: result.message } : { result: rewritten[i]?.reply ?? result },
    );
  };

  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, {
        "content-type": "application/json",
        "upstash-sync-token": String(++syncToken),
      });
      res.end(JSON.stringify(body));
    };
    if (!timingSafeEqual(sha256(req.headers.authorization ?? ""), expected)) {
      res.setHeader("www-authenticate", "Bearer");
      return send(401, { error: "Unauthorized" });
    }
    if (req.method !== "POST") return send(405, { error: "ERR only POST is supported" });
    const base64 = req.headers["upstash-encoding"]?.toString().toLowerCase() === "base64";
    const out = (outcome: Outcome) =>
      "error" in outcome ? outcome : { result: encode(outcome.result, base64) };
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const path = new URL(req.url ?? "/", "http://relay").pathname;
      if (path === "/") {
        const command = toCommand(body);
        if (!command) return send(400, { error: "ERR the body must be a JSON array command" });
        const outcome = await run(command);
        return send("error" in outcome ? 400 : 200, out(outcome));
      }
      const commands = Array.isArray(body) ? body.map(toCommand) : [];
      if (commands.length === 0 || !commands.every((c) => c !== undefined)) {
        return send(400, { error: "ERR the body must be a JSON array of commands" });
      }
      if (path === "/pipeline") return send(200, (await Promise.all(commands.map(run))).map(out));
      if (path === "/multi-exec") return send(200, (await transaction(commands)).map(out));
      return send(404, { error: `ERR unknown path ${path}` });
    } catch (error) {
      return send(400, { error: error instanceof Error ? error.message : String(error) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    token: opts.token,
    async close() {
      // Clients keep connections alive; without closing them server.close() would wait for them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}
