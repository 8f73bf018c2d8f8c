import { createRequire } from "node:module";

/**
 * What the Redis emulation knows about commands before ioredis-mock sees them: which exist and
 * their arity (from `@ioredis/commands`, the table ioredis itself uses), which value type their
 * keys must hold, and where their option keywords sit.
 */

interface CommandSpec {
  arity: number;
  flags: string[];
}

// Through require: an ESM JSON import turns the keys into named exports, and `eval` is not a legal one.
export const COMMANDS = createRequire(import.meta.url)("@ioredis/commands/built/commands.json") as Record<
  string,
  CommandSpec
>;
export const WRITE_COMMANDS = Object.entries(COMMANDS)
  .filter(([, spec]) => spec.flags.includes("write"))
  .map(([name]) => name);

/**
 * Commands the emulation refuses although ioredis-mock has them: they would switch the one
 * shared instance into another mode (pub/sub), block it, or are not data commands at all.
 */
const REFUSED = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "monitor",
  "quit",
  "reset",
  "select",
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "bzpopmin",
  "bzpopmax",
  "xread",
  "replicaof",
  "slaveof",
  "failover",
]);

type ValueType = "string" | "hash" | "list" | "set" | "zset";

/** The type each command needs its keys to hold; ioredis-mock checks none of this itself. */
export const KEY_TYPE: Record<string, ValueType> = {};
const typed = (type: ValueType, names: string): void => {
  for (const name of names.split(" ")) KEY_TYPE[name] = type;
};
typed(
  "string",
  "get getex getdel getset getrange setrange append strlen incr incrby incrbyfloat decr decrby getbit setbit bitcount substr",
);
typed(
  "hash",
  "hget hset hsetnx hmset hmget hgetall hdel hexists hincrby hincrbyfloat hkeys hvals hlen hstrlen hrandfield hscan",
);
typed(
  "list",
  "lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove rpoplpush lmpop",
);
typed(
  "set",
  "sadd srem smembers sismember smismember scard spop srandmember sinter sunion sdiff sinterstore sunionstore sdiffstore smove sscan",
);
typed(
  "zset",
  "zadd zrem zscore zincrby zcard zcount zrange zrangebyscore zrevrange zrevrangebyscore zrangebylex zrevrangebylex zrank zrevrank zremrangebyrank zremrangebyscore zpopmin zpopmax zmscore zscan zdiff zinterstore zunionstore",
);
/** Their first key is a destination, overwritten whatever it held. */
export const DESTINATION_FIRST = new Set([
  "sinterstore",
  "sunionstore",
  "sdiffstore",
  "zinterstore",
  "zunionstore",
]);

/** Option keywords and how many values follow each. */
const KEYWORDS: Record<string, number> = {
  EX: 1,
  PX: 1,
  EXAT: 1,
  PXAT: 1,
  NX: 0,
  XX: 0,
  GT: 0,
  LT: 0,
  CH: 0,
  INCR: 0,
  GET: 0,
  KEEPTTL: 0,
  PERSIST: 0,
  BYSCORE: 0,
  BYLEX: 0,
  REV: 0,
  WITHSCORES: 0,
  WITHVALUES: 0,
  LIMIT: 2,
  MATCH: 1,
  COUNT: 1,
  TYPE: 1,
  RANK: 1,
  MAXLEN: 1,
};
/**
 * Where each command's options start (index into the arguments after the command name). ioredis-mock only recognises them in upper case, and
 * `@upstash/redis` sends many in lower case (`ex`, `nx`, `withscores`): silently ignored, a
 * `SET ... ex 60 nx` would overwrite and never expire. Option values are skipped, so a MATCH
 * pattern or SET value spelled like a keyword is left alone.
 */
const OPTIONS_FROM: Record<string, number> = {
  set: 2,
  getex: 1,
  zadd: 1,
  zrange: 3,
  zrevrange: 3,
  zrangebyscore: 3,
  zrevrangebyscore: 3,
  zrangebylex: 3,
  zrevrangebylex: 3,
  scan: 1,
  hscan: 2,
  sscan: 2,
  zscan: 2,
  expire: 2,
  pexpire: 2,
  expireat: 2,
  pexpireat: 2,
  hrandfield: 2,
  lpos: 2,
};
/** Keywords at fixed positions, e.g. LINSERT key BEFORE|AFTER pivot element. */
const KEYWORD_AT: Record<string, number[]> = { linsert: [1], lmove: [2, 3] };

export const INTEGER = /^-?\d{1,19}$/;
export const FLOAT = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const NOT_INTEGER = "ERR value is not an integer or out of range";

function upperCaseOptions(name: string, args: string[]): string[] {
  const out = [...args];
  for (const at of KEYWORD_AT[name] ?? []) {
    const arg = out[at];
    if (arg !== undefined) out[at] = arg.toUpperCase();
  }
  const from = OPTIONS_FROM[name];
  if (from === undefined) return out;
  for (let i = from; i < out.length; i++) {
    const keyword = (out[i] as string).toUpperCase();
    const values = KEYWORDS[keyword];
    if (values === undefined) {
      // ZADD's options come before the first score; elsewhere a stray word is left as sent.
      if (name === "zadd") break;
      continue;
    }
    out[i] = keyword;
    i += values;
  }
  return out;
}

/**
 * Checks a command as Redis does before running it, and readies it for ioredis-mock.
 *
 * @throws Error with Redis's message for an unknown or refused command or a wrong argument count.
 * @example
 * validate(["SET", "k", "v", "ex", "60"]); // { name: "set", args: ["k", "v", "EX", "60"] }
 */
export function validate(command: string[]): { name: string; args: string[] } {
  const [raw = "", ...rest] = command;
  const name = raw.toLowerCase();
  const spec = COMMANDS[name];
  if (!spec || REFUSED.has(name)) {
    const shown = rest
      .slice(0, 3)
      .map((arg) => `'${arg}'`)
      .join(" ");
    throw new Error(`ERR unknown command '${raw}', with args beginning with: ${shown}`);
  }
  const count = command.length;
  if (spec.arity > 0 ? count !== spec.arity : count < -spec.arity) {
    throw new Error(`ERR wrong number of arguments for '${name}' command`);
  }
  return { name, args: upperCaseOptions(name, rest) };
}
