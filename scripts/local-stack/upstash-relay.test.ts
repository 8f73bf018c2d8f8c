import { env } from "cloudflare:workers";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { afterAll, describe, expect, it } from "vitest";

// The global setup starts the relay over the machine's Redis and binds its address.
const url = env.UPSTASH_REDIS_REST_URL ?? "";
const token = env.UPSTASH_REDIS_REST_TOKEN ?? "";

/** One try only: a broken relay should fail the test at once, not after the client's backoffs. */
function client(opts: { enableAutoPipelining?: boolean; token?: string } = {}): Redis {
  return new Redis({
    url,
    token: opts.token ?? token,
    retry: { retries: 0 },
    enableTelemetry: false,
    enableAutoPipelining: opts.enableAutoPipelining ?? true,
  });
}

// One prefix per run, so the run can remove what it wrote from a developer's Redis.
const run = `test:upstash-relay:${crypto.randomUUID()}:`;
const prefix = (): string => `${run}${crypto.randomUUID()}:`;

afterAll(async () => {
  const redis = client();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, { match: `${run}*`, count: 1000 });
    if (keys.length > 0) await redis.del(...keys);
    cursor = String(next);
  } while (cursor !== "0");
});

async function raw(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

it("the relay address is bound", () => {
  expect(url).toMatch(/^http:\/\//);
  expect(token).not.toBe("");
});

describe.each([
  ["auto-pipelined (as in production)", true],
  ["one request per command", false],
])("commands, %s", (_, enableAutoPipelining) => {
  const redis = client({ enableAutoPipelining });

  it("SET with EX and NX, GET", async () => {
    const k = `${prefix()}s`;
    expect(await redis.set(k, "first", { ex: 60, nx: true })).toBe("OK");
    expect(await redis.set(k, "second", { nx: true })).toBeNull();
    expect(await redis.get(k)).toBe("first");
    expect(await redis.ttl(k)).toBeGreaterThan(50);
    expect(await redis.get(`${k}:missing`)).toBeNull();
  });

  it("round-trips strings that need base64: unicode, control bytes, and a literal OK", async () => {
    const k = prefix();
    const tricky = 'héllo ✓ 𝄞 日本 \u0000\u0001\u007f\r\n"quoted" end';
    await redis.set(`${k}u`, tricky);
    await redis.set(`${k}ok`, "OK");
    expect(await redis.get(`${k}u`)).toBe(tricky);
    expect(await redis.get(`${k}ok`)).toBe("OK");
    expect(await redis.mget(`${k}u`, `${k}ok`, `${k}none`)).toEqual([tricky, "OK", null]);
  });

  it("hashes come back whole from HGETALL", async () => {
    const k = `${prefix()}h`;
    expect(await redis.hset(k, { name: "ünï", count: 2, json: { a: 1 } })).toBe(3);
    expect(await redis.hgetall(k)).toEqual({ name: "ünï", count: 2, json: { a: 1 } });
    expect(await redis.hget(k, "name")).toBe("ünï");
    expect(await redis.hgetall(`${k}:missing`)).toBeNull();
  });

  it("sorted sets keep scores and order", async () => {
    const k = `${prefix()}z`;
    await redis.zadd(k, { score: 2, member: "b" }, { score: 1, member: "a" }, { score: 3.5, member: "c" });
    expect(await redis.zrange(k, 0, -1)).toEqual(["a", "b", "c"]);
    expect(await redis.zrange(k, 0, 1, { withScores: true })).toEqual(["a", 1, "b", 2]);
    expect(await redis.zscore(k, "c")).toBe(3.5);
    expect(await redis.zincrby(k, 10, "a")).toBe(11);
    expect(await redis.zcard(k)).toBe(3);
  });

  it("lists push, range and pop", async () => {
    const k = `${prefix()}l`;
    expect(await redis.rpush(k, "x", "y", "z")).toBe(3);
    expect(await redis.lpush(k, "w")).toBe(4);
    expect(await redis.lrange(k, 0, -1)).toEqual(["w", "x", "y", "z"]);
    expect(await redis.rpop(k)).toBe("z");
    expect(await redis.type(k)).toBe("list");
  });

  it("a failing command rejects with Redis's error", async () => {
    const k = `${prefix()}s`;
    await redis.set(k, "a string");
    await expect(redis.hget(k, "field")).rejects.toThrow(/WRONGTYPE/);
  });
});

describe("pipeline and transaction", () => {
  const redis = client();

  it("a pipeline reports a failing item among the results", async () => {
    const k = `${prefix()}p`;
    const results = await redis.pipeline().set(k, "1").hget(k, "f").incr(k).exec({ keepErrors: true });
    expect(results[0]).toEqual({ result: "OK", error: undefined });
    expect(results[1]?.error).toMatch(/^WRONGTYPE/);
    expect(results[2]).toEqual({ result: 2, error: undefined });
    await expect(redis.pipeline().get(k).hget(k, "f").exec()).rejects.toThrow(/Command 2 \[ hget \] failed/);
  });

  it("the pipeline endpoint answers 200 with per-item errors and base64 nested in arrays", async () => {
    const k = `${prefix()}h`;
    await redis.hset(k, { f: "ü" });
    const res = await raw(
      "/pipeline",
      [
        ["hgetall", k],
        ["set", k, "x"],
        ["hget", k, "f"],
        ["mget", k, `${k}:none`],
      ],
      { "upstash-encoding": "base64" },
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { result: [btoa("f"), btoa("\u00c3\u00bc")] },
      { result: "OK" },
      { error: expect.stringMatching(/^WRONGTYPE/) },
      { result: [btoa("x"), null] },
    ]);
  });

  it("multi-exec runs atomically and reports a runtime error in place", async () => {
    const k = `${prefix()}m`;
    expect(await redis.multi().set(k, 5).incr(k).get(k).exec()).toEqual(["OK", 6, 6]);
    const results = await redis.multi().set(k, "text").incr(k).get(k).exec({ keepErrors: true });
    expect(results.map((r) => r.error ?? r.result)).toEqual([
      "OK",
      expect.stringMatching(/not an integer/),
      "text",
    ]);
  });

  it("a transaction with a malformed command is discarded whole, as Redis's EXECABORT does", async () => {
    const k = `${prefix()}m`;
    const res = await raw("/multi-exec", [
      ["set", k, "applied?"],
      ["get", k, "extra-argument"],
    ]);
    expect(res).toEqual({ status: 400, body: { error: expect.stringMatching(/wrong number of arguments/) } });
    expect(await redis.get(k)).toBeNull();
  });

  it("refuses commands that would change the shared connection's state", async () => {
    const res = await raw("/", ["select", "1"]);
    expect(res).toEqual({ status: 400, body: { error: expect.stringMatching(/SELECT is not supported/) } });
  });
});

describe("scripts", () => {
  const redis = client();

  it("EVAL returns arrays of keys, args and numbers", async () => {
    const k = `${prefix()}e`;
    expect(await redis.eval("return {KEYS[1], ARGV[1], 42}", [k], ["ü"])).toEqual([k, "ü", 42]);
  });

  it("runs scripts with Upstash's allow-key-locking shebang by the client's own SHA1", async () => {
    const script = `#!lua flags=allow-key-locking\nreturn redis.call("INCRBY", KEYS[1], ARGV[1]) -- ${crypto.randomUUID()}`;
    const sha = await sha1(script);
    const k = `${prefix()}n`;
    await expect(redis.evalsha(sha, [k], [1])).rejects.toThrow(/NOSCRIPT No matching script/);
    expect(await redis.eval(script, [k], [2])).toBe(2);
    expect(await redis.evalsha(sha, [k], [3])).toBe(5);
    expect(await redis.scriptLoad(script)).toBe(sha);
    expect(await redis.scriptExists(sha)).toEqual([1]);
    expect(await redis.evalshaRo(sha, [k], [0]).catch((e: Error) => e.message)).toMatch(
      /write commands are not allowed/i,
    );
  });

  it("reports Lua errors at the line numbers of the script the client sent", async () => {
    const script = `#!lua flags=allow-key-locking\nlocal x = 1\nerror("boom") -- ${crypto.randomUUID()}`;
    await expect(redis.eval(script, [], [])).rejects.toThrow(/:3: boom/);
  });
});

describe("auth", () => {
  it.each([
    ["no", undefined],
    ["a wrong", "Bearer not-the-token"],
    ["a longer wrong", `Bearer ${token}x`],
  ])("answers 401 to %s token", async (_, authorization) => {
    const res = await fetch(url, {
      method: "POST",
      headers: authorization ? { authorization } : {},
      body: JSON.stringify(["ping"]),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
  });

  it("the client with a wrong token fails, the right one works", async () => {
    await expect(client({ token: "wrong", enableAutoPipelining: false }).ping()).rejects.toThrow(
      /Unauthorized/,
    );
    expect(await client().ping()).toBe("PONG");
  });

  it("a failed single command is HTTP 400 with Redis's error", async () => {
    const res = await raw("/", ["hget", "only-key"]);
    expect(res).toEqual({ status: 400, body: { error: expect.stringMatching(/wrong number of arguments/) } });
  });
});

describe("@upstash/ratelimit", () => {
  const redis = client();

  it.each([
    ["slidingWindow", Ratelimit.slidingWindow(3, "60 s")],
    ["fixedWindow", Ratelimit.fixedWindow(3, "60 s")],
    ["tokenBucket", Ratelimit.tokenBucket(1, "60 s", 3)],
  ])("%s limits, counts down, and resets", async (_, limiter) => {
    // No ephemeral cache: every verdict must come from Redis through the relay.
    const ratelimit = new Ratelimit({
      redis,
      limiter,
      prefix: prefix(),
      analytics: false,
      ephemeralCache: false,
    });
    const verdicts = [];
    for (let i = 0; i < 4; i++) {
      const { success, remaining, limit, pending } = await ratelimit.limit("caller");
      await pending;
      verdicts.push({ success, remaining, limit });
    }
    expect(verdicts).toEqual([
      { success: true, remaining: 2, limit: 3 },
      { success: true, remaining: 1, limit: 3 },
      { success: true, remaining: 0, limit: 3 },
      { success: false, remaining: 0, limit: 3 },
    ]);
    expect(await ratelimit.getRemaining("caller")).toMatchObject({ remaining: 0, limit: 3 });
    expect(await ratelimit.getRemaining("someone-else")).toMatchObject({ remaining: 3, limit: 3 });

    await ratelimit.resetUsedTokens("caller");
    expect(await ratelimit.getRemaining("caller")).toMatchObject({ remaining: 3 });
    expect(await ratelimit.limit("caller")).toMatchObject({ success: true, remaining: 2 });
  });

  it("limit with a rate above 1 spends that many tokens", async () => {
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.fixedWindow(5, "60 s"),
      prefix: prefix(),
      analytics: false,
      ephemeralCache: false,
    });
    expect(await ratelimit.limit("caller", { rate: 4 })).toMatchObject({ success: true, remaining: 1 });
    expect(await ratelimit.limit("caller", { rate: 2 })).toMatchObject({ success: false });
  });
});
