/**
 * Makes Redis Lua scripts run on ioredis-mock's Lua bridge (fengari). Its `redis.call` hands
 * scripts JS proxies: a missing value is a `js.null` userdata (truthy, not `false`), a nested
 * array can't be indexed from 1, and `redis.error_reply`/`status_reply` don't exist. The prelude
 * below turns every reply into plain Lua values and tables, and the epilogue turns the script's
 * return value into what Redis would send (error tables raise, status tables become strings,
 * arrays stop at the first nil).
 *
 * It leans on ioredis-mock's internals (8.13: `redis.call` returns arrays with a placeholder at
 * index 0; `redis.pcall` returns `["error", message]`; a returned table counts as an array only
 * if fengari lists its keys from last to first, hence the reply is filled backwards), so the
 * version is pinned and scripts/local-stack/check-embedded.ts exercises it. fengari's integers
 * are 32-bit, so a millisecond timestamp is a float there: arguments are formatted by hand to
 * reach commands as Redis would format them ("1700000000000", not "1.7e+12").
 */

// Lua, written out line by line for reading; joined with spaces into the script's first line so
// that error line numbers stay those of the script the client sent. No `--` comments in here.
const PRELUDE = [
  "local __call, __pcall = redis.call, redis.pcall;",
  "local function __plain(v, base)",
  '  if type(v) ~= "userdata" then return v end',
  "  local ok, n = pcall(function() return v.length end)",
  "  if not ok then return false end",
  '  if type(n) ~= "number" then return v end',
  "  local t = {}",
  "  for i = base, n - 1 do",
  "    local x = v[i]",
  "    if x == nil then t[i - base + 1] = false else t[i - base + 1] = __plain(x, 0) end",
  "  end",
  "  return t",
  "end;",
  "local function __args(...)",
  "  local a = table.pack(...)",
  "  for i = 1, a.n do",
  '    if type(a[i]) == "number" then',
  '      if math.type(a[i]) == "float" and a[i] == math.floor(a[i]) and math.abs(a[i]) < 2^53 then a[i] = string.format("%.0f", a[i]) else a[i] = tostring(a[i]) end',
  "    end",
  "  end",
  "  return table.unpack(a, 1, a.n)",
  "end;",
  "local function __guard(name)",
  '  if __READONLY and __WRITES[string.lower(tostring(name))] then error("ERR Write commands are not allowed from read-only scripts.", 0) end',
  "end;",
  "redis.call = function(name, ...) __guard(name); return __plain(__call(__args(name, ...)), 1) end;",
  "redis.pcall = function(name, ...)",
  "  __guard(name);",
  "  local r = __pcall(__args(name, ...));",
  '  if type(r) == "userdata" then',
  "    local ok, first = pcall(function() return r[0] end)",
  '    if ok and first == "error" then return { err = r[1] } end',
  "  end",
  "  return __plain(r, 1)",
  "end;",
  "redis.error_reply = function(message) return { err = message } end;",
  "redis.status_reply = function(message) return { ok = message } end;",
  "redis.log = function() end;",
  "redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3;",
  "local function __reply(v)",
  '  if type(v) ~= "table" then return v end',
  "  if v.err ~= nil then error(v.err, 0) end",
  "  if v.ok ~= nil then return v.ok end",
  "  local n = 0",
  "  while v[n + 1] ~= nil do n = n + 1 end",
  "  local t = {}",
  "  for i = n, 1, -1 do t[i] = __reply(v[i]) end",
  "  return t",
  "end;",
  "return __reply((function()",
].join(" ");

const EPILOGUE = "\nend)())";

/**
 * The script as ioredis-mock should run it. A `#!lua` first line (flags) is blanked; its
 * `no-writes` flag makes the script read-only, as `EVAL_RO` does.
 *
 * @example
 * mock.eval(wrapScript(script, { readOnly: false, writeCommands }), numKeys, ...args);
 */
export function wrapScript(
  script: string,
  opts: { readOnly: boolean; writeCommands: readonly string[] },
): string {
  const newline = script.indexOf("\n");
  const firstLine = newline === -1 ? script : script.slice(0, newline);
  const shebang = firstLine.startsWith("#!");
  const readOnly = opts.readOnly || (shebang && /\bno-writes\b/.test(firstLine));
  const body = shebang ? script.slice(firstLine.length) : script;
  const writes = readOnly ? opts.writeCommands.map((name) => `[${JSON.stringify(name)}]=true`).join(",") : "";
  return `local __READONLY, __WRITES = ${readOnly}, {${writes}}; ${PRELUDE} ${body}${EPILOGUE}`;
}

/**
 * Redis's message for a failed script: fengari's `[string "..."]:3: boom` becomes
 * `ERR user_script:3: boom`; errors raised by `redis.error_reply` or a command pass as they are.
 */
export function scriptError(error: unknown): Error {
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.replace(/^Error trying to loading or executing lua code string in VM: /, "");
  const located = /^\[string ".*?"\]:(\d+): ([\s\S]*)$/.exec(message);
  if (located) return new Error(`ERR user_script:${located[1]}: ${located[2]}`);
  return new Error(/^[A-Z]+ /.test(message) ? message : `ERR ${message}`);
}

/**
 * Lua's reply types as Redis converts them: numbers truncate to integers, `true` is 1 and
 * `false` a nil reply.
 */
export function toRedisReply(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toRedisReply);
  if (typeof value === "number") return Math.trunc(value);
  if (value === true) return 1;
  if (value === false || value === undefined) return null;
  return value;
}
