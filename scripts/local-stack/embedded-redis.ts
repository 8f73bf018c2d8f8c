import { createHash, randomBytes } from "node:crypto";
import { getKeyIndexes } from "@ioredis/commands";
import RedisMock from "ioredis-mock";
import {
  DESTINATION_FIRST,
  FLOAT,
  INTEGER,
  KEY_TYPE,
  NOT_INTEGER,
  validate,
  WRITE_COMMANDS,
  WRONGTYPE,
} from "./redis-emulation-commands.ts";
import { scriptError, toRedisReply, wrapScript } from "./redis-emulation-lua.ts";
import { type RedisBackend, startUpstashRelay, type UpstashRelay } from "./upstash-relay.ts";

let emulations = 0;

const sha1 = (text: string): string => createHash("sha1").update(text).digest("hex");

/**
 * An in-memory Redis for the Upstash relay, built on ioredis-mock 8.13 with the fixes it needs to
 * pass for a server: commands allow-listed and arity-checked from `@ioredis/commands`,
 * WRONGTYPE and integer checks, option keywords upper-cased, HGETALL flattened, SCRIPT
 * LOAD/EXISTS/FLUSH answered here, and a Lua prelude so `@upstash/ratelimit`'s scripts run.
 * Every call holds one lock, so a transaction or script is atomic as on Redis.
 *
 * For a machine without Redis; not for load tests (it manages a few hundred rate-limit calls per
 * second) or anything relying on expiry precision, pub/sub or blocking commands.
 *
 * @example
 * const relay = await startUpstashRelay({ backend: createRedisEmulation(), token });
 */
export function createRedisEmulation(): RedisBackend {
  // ioredis-mock shares one store per host:port across the module: a host of our own keeps it ours.
  const mock = new RedisMock({ host: `emulation-${++emulations}.invalid`, port: 6379 });
  const call = mock as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
  const scripts = new Map<string, string>();
  let lock: Promise<unknown> = Promise.resolve();

  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = lock.then(fn);
    lock = result.catch(() => undefined);
    return result;
  };

  async function checkTypes(name: string, args: string[]): Promise<void> {
    const expected = KEY_TYPE[name];
    if (!expected) return;
    let indexes: number[];
    try {
      indexes = getKeyIndexes(name, args);
    } catch {
      return;
    }
    for (const index of DESTINATION_FIRST.has(name) ? indexes.slice(1) : indexes) {
      const key = args[index];
      if (key === undefined) continue;
      const actual = await call.type?.(key);
      if (actual !== "none" && actual !== expected) throw new Error(WRONGTYPE);
    }
  }

  async function checkNumbers(name: string, args: string[]): Promise<void> {
    const [key = "", second, third] = args;
    switch (name) {
      case "incr":
      case "decr":
      case "incrby":
      case "decrby": {
        if (second !== undefined && !INTEGER.test(second)) throw new Error(NOT_INTEGER);
        const value = await call.get?.(key);
        if (value !== null && value !== undefined && !INTEGER.test(String(value)))
          throw new Error(NOT_INTEGER);
        return;
      }
      case "incrbyfloat": {
        const value = await call.get?.(key);
        if (second === undefined || !FLOAT.test(second)) throw new Error("ERR value is not a valid float");
        if (value !== null && value !== undefined && !FLOAT.test(String(value))) {
          throw new Error("ERR value is not a valid float");
        }
        return;
      }
      case "hincrby": {
        if (third !== undefined && !INTEGER.test(third)) throw new Error(NOT_INTEGER);
        const value = second === undefined ? null : await call.hget?.(key, second);
        if (value !== null && value !== undefined && !INTEGER.test(String(value))) {
          throw new Error("ERR hash value is not an integer");
        }
        return;
      }
      case "expire":
      case "pexpire":
      case "expireat":
      case "pexpireat":
      case "setex":
      case "psetex":
        if (second !== undefined && !INTEGER.test(second)) throw new Error(NOT_INTEGER);
    }
  }

  async function runScript(name: string, args: string[]): Promise<unknown> {
    const [first = "", numKeys = "0", ...rest] = args;
    let script: string | undefined;
    if (name === "eval" || name === "eval_ro") {
      script = first;
      scripts.set(sha1(script), script);
    } else {
      script = scripts.get(first.toLowerCase());
      if (script === undefined) throw new Error("NOSCRIPT No matching script. Please use EVAL.");
    }
    if (!INTEGER.test(numKeys) || Number(numKeys) < 0) {
      throw new Error("ERR value is not an integer or out of range");
    }
    if (Number(numKeys) > rest.length) {
      throw new Error("ERR Number of keys can't be greater than number of args");
    }
    const readOnly = name.endsWith("_ro");
    const wrapped = wrapScript(script, { readOnly, writeCommands: WRITE_COMMANDS });
    try {
      return toRedisReply(await call.eval?.(wrapped, numKeys, ...rest));
    } catch (error) {
      throw scriptError(error);
    }
  }

  function scriptCommand(args: string[]): unknown {
    const [sub = "", ...rest] = args;
    switch (sub.toUpperCase()) {
      case "LOAD": {
        const script = rest[0] ?? "";
        const sha = sha1(script);
        scripts.set(sha, script);
        return sha;
      }
      case "EXISTS":
        return rest.map((sha) => (scripts.has(sha.toLowerCase()) ? 1 : 0));
      case "FLUSH":
        scripts.clear();
        return "OK";
      default:
        throw new Error(`ERR unknown subcommand '${sub}'. Try SCRIPT HELP.`);
    }
  }

  /** Runs a validated command; the caller holds the lock. */
  async function execute(name: string, args: string[]): Promise<unknown> {
    if (name === "script") return scriptCommand(args);
    if (name === "eval" || name === "evalsha" || name === "eval_ro" || name === "evalsha_ro") {
      return runScript(name, args);
    }
    await checkTypes(name, args);
    await checkNumbers(name, args);
    const method = call[name];
    if (typeof method !== "function") throw new Error(`ERR unknown command '${name}'`);
    let reply: unknown;
    try {
      reply = await method.apply(mock, args);
    } catch (error) {
      // ioredis-mock lists every Redis command and throws this for those it lacks.
      const message = error instanceof Error ? error.message : String(error);
      if (/Unsupported command/.test(message))
        throw new Error(`ERR unknown command '${name}' (not emulated)`);
      throw new Error(/^[A-Z]+ /.test(message) ? message : `ERR ${message}`);
    }
    return shape(name, reply);
  }

  return {
    send(command) {
      return exclusive(async () => {
        const { name, args } = validate(command);
        return execute(name, args);
      });
    },
    transaction(commands) {
      return exclusive(async () => {
        // Like MULTI/EXEC: a malformed command discards the whole transaction before anything runs.
        const valid = commands.map(validate);
        const replies: unknown[] = [];
        for (const { name, args } of valid) {
          replies.push(await execute(name, args).catch((error: unknown) => error));
        }
        return replies;
      });
    },
    async close() {
      await exclusive(async () => {
        await call.flushall?.();
        mock.disconnect();
      });
    },
  };
}

/** ioredis-mock's replies in the shapes Redis sends over RESP2. */
function shape(name: string, reply: unknown): unknown {
  if (name === "hgetall" && reply && typeof reply === "object" && !Array.isArray(reply)) {
    return Object.entries(reply as Record<string, unknown>).flat();
  }
  if (reply === undefined) return null;
  if (typeof reply === "boolean") return reply ? 1 : 0;
  return reply;
}

export interface EmbeddedRedisOptions {
  /** Bearer token the relay requires. @default a fresh random token */
  token?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
}

/**
 * Starts the Upstash REST relay over an in-memory Redis emulation ({@link createRedisEmulation}):
 * for a machine with no Redis. Data lives as long as the process.
 *
 * @example
 * const relay = await startEmbeddedRedis();
 * const redis = new Redis({ url: relay.url, token: relay.token });
 * await relay.close();
 */
export function startEmbeddedRedis(opts: EmbeddedRedisOptions = {}): Promise<UpstashRelay> {
  return startUpstashRelay({
    backend: createRedisEmulation(),
    token: opts.token ?? randomBytes(24).toString("base64url"),
    ...(opts.port === undefined ? {} : { port: opts.port }),
    ...(opts.host === undefined ? {} : { host: opts.host }),
  });
}
