/**
 * `npx tsx scripts/local-stack/check-embedded.ts`: proves the embedded stand-ins a newcomer gets
 * without PostgreSQL or Redis. It points `startLocalStack` at dead ports so it falls back to
 * both, then drives them from Node the way the Worker does: `@upstash/redis` and
 * `@upstash/ratelimit` through the Upstash relay, and the Neon driver (over `ws`) through the
 * Neon relay for tenant-scoped queries, row-level security, a vector search and concurrent
 * transactions. Prints one line per check and exits 1 if any failed.
 *
 * The Redis emulation leans on ioredis-mock internals (see redis-emulation-lua.ts): run this
 * after bumping ioredis-mock, fengari or @upstash/*, and in CI.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, neonConfig } from "@neondatabase/serverless";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { and, eq, sql } from "drizzle-orm";
import pg from "pg";
import WebSocket from "ws";
import { connect } from "../../db/client.ts";
import { agents, chunks, collections, documents, tenants } from "../../db/schema/index.ts";
import { embeddingDimIs, embeddingDistance } from "../../db/schema/rag.ts";
import { withTenant } from "../../db/tenant.ts";
import { newId } from "../../workers/lib/ids.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { startLocalStack } from "./index.ts";

neonConfig.webSocketConstructor = WebSocket;

interface Outcome {
  name: string;
  ok: boolean;
  ms: number;
  detail?: string;
}
const outcomes: Outcome[] = [];

async function check(name: string, fn: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  try {
    await fn();
    outcomes.push({ name, ok: true, ms: performance.now() - started });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? ` (cause: ${error.cause.message})` : "";
    const detail =
      error instanceof Error
        ? `${error.message.split("\n").slice(0, 12).join(" | ")}${cause}`
        : String(error);
    outcomes.push({ name, ok: false, ms: performance.now() - started, detail });
  }
  const last = outcomes.at(-1) as Outcome;
  console.log(
    `${last.ok ? "ok  " : "FAIL"} ${name} (${Math.round(last.ms)} ms)${last.detail ? `\n     ${last.detail}` : ""}`,
  );
}

// Dead ports, so startLocalStack takes the embedded path whatever runs on this machine.
process.env.DATABASE_URL = "postgres://postgres@127.0.0.1:1/postgres";
process.env.REDIS_URL = "redis://127.0.0.1:1";
delete process.env.UPSTASH_REDIS_REST_URL;
delete process.env.UPSTASH_REDIS_REST_TOKEN;

const started = performance.now();
const stack = await startLocalStack({ database: "meridian_check", requireServers: false });
const startMs = performance.now() - started;
for (const line of stack.describe) console.log(`[local stack] ${line}`);
console.log(`[local stack] started in ${Math.round(startMs)} ms\n`);

const bindings = stack.bindings as { DATABASE_URL: string; NEON_WS_PROXY: string } & Record<string, string>;
const prefix = `check:${newId()}:`;

try {
  await check("falls back to embedded for both parts and says so", async () => {
    assert.equal(stack.kind, "embedded");
    assert.match(stack.describe[0] ?? "", /^PostgreSQL: embedded PGlite \(no server reachable at /);
    assert.match(stack.describe[1] ?? "", /^Redis: embedded in-memory emulation \(no server reachable at /);
  });
  await redisChecks(
    new Redis({
      url: bindings.UPSTASH_REDIS_REST_URL as string,
      token: bindings.UPSTASH_REDIS_REST_TOKEN as string,
      retry: { retries: 0 },
      enableTelemetry: false,
    }),
  );
  await postgresChecks();
  await gateChecks();
} finally {
  await stack.close();
}

const failed = outcomes.filter((o) => !o.ok);
console.log(
  `\nembedded stack: ${outcomes.length - failed.length} passed, ${failed.length} failed; start ${Math.round(startMs)} ms`,
);
process.exit(failed.length === 0 ? 0 : 1);

async function redisChecks(redis: Redis): Promise<void> {
  await check("redis: SET with EX and NX (lower-case options), GET, TTL", async () => {
    const k = `${prefix}s`;
    assert.equal(await redis.set(k, "first", { ex: 60, nx: true }), "OK");
    assert.equal(await redis.set(k, "second", { nx: true }), null);
    assert.equal(await redis.get(k), "first");
    assert.ok((await redis.ttl(k)) > 50);
  });
  await check("redis: strings needing base64 round-trip, MGET with a missing key", async () => {
    const tricky = 'héllo ✓ 𝄞 日本 \u0000\u0001\u007f\r\n"quoted"';
    await redis.set(`${prefix}u`, tricky);
    await redis.set(`${prefix}ok`, "OK");
    assert.deepEqual(await redis.mget(`${prefix}u`, `${prefix}ok`, `${prefix}none`), [tricky, "OK", null]);
  });
  await check("redis: hashes (HGETALL whole, missing is null), WRONGTYPE", async () => {
    const k = `${prefix}h`;
    assert.equal(await redis.hset(k, { name: "ünï", count: 2 }), 2);
    assert.deepEqual(await redis.hgetall(k), { name: "ünï", count: 2 });
    assert.equal(await redis.hgetall(`${k}:missing`), null);
    await assert.rejects(redis.hget(`${prefix}s`, "f"), /WRONGTYPE/);
  });
  await check("redis: sorted sets, lists, sets, SCAN", async () => {
    const z = `${prefix}z`;
    await redis.zadd(z, { score: 2, member: "b" }, { score: 1, member: "a" });
    assert.deepEqual(await redis.zrange(z, 0, -1, { withScores: true }), ["a", 1, "b", 2]);
    assert.equal(await redis.zincrby(z, 10, "a"), 11);
    const l = `${prefix}l`;
    assert.equal(await redis.rpush(l, "x", "y"), 2);
    assert.deepEqual(await redis.lrange(l, 0, -1), ["x", "y"]);
    assert.equal(await redis.sadd(`${prefix}set`, "m", "n"), 2);
    assert.equal(await redis.sismember(`${prefix}set`, "m"), 1);
    const [, keys] = await redis.scan(0, { match: `${prefix}*`, count: 1000 });
    assert.ok(keys.includes(z) && keys.includes(l));
  });
  await check("redis: pipeline keeps a failed item in place; MULTI is atomic; EXECABORT", async () => {
    const k = `${prefix}p`;
    const piped = await redis.pipeline().set(k, "1").hget(k, "f").incr(k).exec({ keepErrors: true });
    assert.match(String(piped[1]?.error), /^WRONGTYPE/);
    assert.equal(piped[2]?.result, 2);
    const multi = await redis.multi().set(k, "text").incr(k).get(k).exec({ keepErrors: true });
    assert.match(String(multi[1]?.error), /not an integer/);
    const res = await fetch(`${bindings.UPSTASH_REDIS_REST_URL}/multi-exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${bindings.UPSTASH_REDIS_REST_TOKEN}` },
      body: JSON.stringify([
        ["set", `${prefix}abort`, "applied?"],
        ["get", `${prefix}abort`, "extra"],
      ]),
    });
    assert.equal(res.status, 400);
    assert.equal(await redis.get(`${prefix}abort`), null);
  });
  await check(
    "redis: EVAL, EVALSHA via the client's SHA, SCRIPT LOAD/EXISTS, read-only scripts, Lua error lines",
    async () => {
      const k = `${prefix}n`;
      assert.deepEqual(await redis.eval("return {KEYS[1], ARGV[1], 42, 2.7}", [k], ["ü"]), [k, "ü", 42, 2]);
      const script = `#!lua flags=allow-key-locking\nreturn redis.call("INCRBY", KEYS[1], ARGV[1]) -- ${newId()}`;
      await assert.rejects(redis.evalsha(await sha1(script), [k], [1]), /NOSCRIPT/);
      assert.equal(await redis.eval(script, [k], [2]), 2);
      assert.equal(await redis.evalsha(await sha1(script), [k], [3]), 5);
      assert.equal(await redis.scriptLoad(script), await sha1(script));
      assert.deepEqual(await redis.scriptExists(await sha1(script)), [1]);
      await assert.rejects(redis.evalshaRo(await sha1(script), [k], [0]), /Write commands are not allowed/);
      await assert.rejects(redis.eval("\nlocal x = 1\nerror('boom')", [], []), /:3: boom/);
      // A missing field must reach the script as false (ioredis-mock hands over a JS null proxy).
      const nested = "local r = redis.call('HMGET', KEYS[1], 'a', 'zz'); return {r[1], type(r[2])}";
      await redis.hset(`${prefix}hm`, { a: "one" });
      assert.deepEqual(await redis.eval(nested, [`${prefix}hm`], []), ["one", "boolean"]);
      assert.deepEqual(await redis.eval("return redis.status_reply('FINE')", [], []), "FINE");
      await assert.rejects(redis.eval("return redis.error_reply('MY failure')", [], []), /MY failure/);
    },
  );

  const limiters = [
    ["sliding window", Ratelimit.slidingWindow(3, "60 s")],
    ["fixed window", Ratelimit.fixedWindow(3, "60 s")],
    ["token bucket", Ratelimit.tokenBucket(1, "60 s", 3)],
  ] as const;
  for (const [name, limiter] of limiters) {
    await check(`ratelimit ${name}: counts down, refuses, getRemaining, resetUsedTokens`, async () => {
      const ratelimit = new Ratelimit({
        redis,
        limiter,
        prefix: `${prefix}rl:${name}`,
        analytics: false,
        ephemeralCache: false,
      });
      const verdicts: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { success, remaining, limit } = await ratelimit.limit("caller");
        verdicts.push(`${success}/${remaining}/${limit}`);
      }
      assert.deepEqual(verdicts, ["true/2/3", "true/1/3", "true/0/3", "false/0/3"]);
      assert.equal((await ratelimit.getRemaining("caller")).remaining, 0);
      assert.equal((await ratelimit.getRemaining("someone-else")).remaining, 3);
      await ratelimit.resetUsedTokens("caller");
      assert.equal((await ratelimit.getRemaining("caller")).remaining, 3);
      assert.equal((await ratelimit.limit("caller", { rate: 2 })).remaining, 1);
    });
  }
  await check("ratelimit: 20 concurrent calls against a limit of 5 admit exactly 5", async () => {
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(5, "60 s"),
      prefix: `${prefix}rl:concurrent`,
      analytics: false,
      ephemeralCache: false,
    });
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => ratelimit.limit("caller")));
    assert.equal(verdicts.filter((v) => v.success).length, 5);
  });
}

async function postgresChecks(): Promise<void> {
  const appClient = () => connect(bindings);
  const [tenantA, tenantB] = [newId(), newId()];
  const [agentA, agentB] = [newId(), newId()];

  await check("postgres: the app role alone holds no table privilege", async () => {
    const client = await appClient();
    try {
      const { rows } = await client.query("select current_user, session_user");
      assert.deepEqual(rows[0], { current_user: "meridian_app", session_user: "meridian_app" });
      await assert.rejects(client.query("select count(*) from agents"), /permission denied/);
    } finally {
      await client.end();
    }
  });

  await check(
    "postgres: tenant-scoped writes and reads through withTenant; RLS hides the other tenant",
    async () => {
      const client = await appClient();
      try {
        for (const [tenantId, agentId] of [
          [tenantA, agentA],
          [tenantB, agentB],
        ] as const) {
          await withTenant(client, tenantId, async (db) => {
            await db
              .insert(tenants)
              .values({ id: tenantId, slug: `t-${tenantId.slice(-12)}`, name: "check" });
            await db.insert(agents).values({ id: agentId, tenantId, name: "a", model: "claude-sonnet-4-6" });
          });
        }
        const seen = await withTenant(client, tenantA, (db) => db.select({ id: agents.id }).from(agents));
        assert.deepEqual(
          seen.map((r) => r.id),
          [agentA],
        );
        await assert.rejects(
          withTenant(client, tenantA, (db) =>
            db.insert(agents).values({ tenantId: tenantB, name: "intruder", model: "claude-sonnet-4-6" }),
          ),
          (error: Error) => /row-level security/.test(String((error.cause as Error | undefined)?.message)),
        );
        const afterCommit = await client.query(
          "select current_user, current_setting('app.tenant_id', true) as t",
        );
        assert.deepEqual(afterCommit.rows[0], { current_user: "meridian_app", t: "" });
      } finally {
        await client.end();
      }
    },
  );

  await check(
    "postgres: vector search in tenant scope (hnsw.iterative_scan, HNSW index usable)",
    async () => {
      const client = await appClient();
      try {
        const unit = (i: number) => Array.from({ length: 384 }, (_, d) => (d === i ? 1 : 0));
        // Nearest to chunk 20, then chunk 10; chunks 0 and 30 are orthogonal to it.
        const query = unit(20).map((x, d) => (d === 10 ? 0.3 : x));
        const nearest = await withTenant(client, tenantA, async (db) => {
          await db.execute(sql`SET LOCAL hnsw.iterative_scan = relaxed_order`);
          const setting = await db.execute(sql`select current_setting('hnsw.iterative_scan') as v`);
          assert.equal(setting.rows[0]?.v, "relaxed_order");
          // relaxed_order may return near-ties out of order; this check wants an exact order.
          await db.execute(sql`SET LOCAL hnsw.iterative_scan = strict_order`);
          const [collection] = await db
            .insert(collections)
            .values({
              tenantId: tenantA,
              name: "c",
              embeddingProvider: "local",
              embeddingModel: "m",
              embeddingDim: 384,
            })
            .returning();
          const [document] = await db
            .insert(documents)
            .values({ tenantId: tenantA, collectionId: collection?.id as string, contentHash: "h" })
            .returning();
          await db.insert(chunks).values(
            [0, 10, 20, 30].map((i, ordinal) => ({
              tenantId: tenantA,
              documentId: document?.id as string,
              collectionId: collection?.id as string,
              ordinal,
              content: `chunk ${i}`,
              embedding: unit(i),
              embeddingDim: 384 as const,
            })),
          );
          await db.execute(sql`SET LOCAL enable_seqscan = off`);
          const plan = await db.execute(
            sql`EXPLAIN SELECT id FROM chunks WHERE ${embeddingDimIs(384)} ORDER BY ${embeddingDistance(384, query)} LIMIT 2`,
          );
          assert.match(JSON.stringify(plan.rows), /chunks_embedding_384_hnsw_idx/);
          return db
            .select({ content: chunks.content })
            .from(chunks)
            .where(and(eq(chunks.tenantId, tenantA), embeddingDimIs(384)))
            .orderBy(embeddingDistance(384, query))
            .limit(2);
        });
        assert.deepEqual(
          nearest.map((r) => r.content),
          ["chunk 20", "chunk 10"],
        );
      } finally {
        await client.end();
      }
    },
  );

  await check("postgres: 8 connections x 10 read-modify-write transactions lose no update", async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, appClient));
    try {
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = 0; i < 10; i++) {
            await withTenant(client, tenantA, async (db) => {
              const [row] = await db
                .select({ limits: tenants.limits })
                .from(tenants)
                .where(eq(tenants.id, tenantA));
              const n = Number((row?.limits as { n?: number } | undefined)?.n ?? 0);
              // A parameterised statement per connection, so interleaved Parse/Bind would show.
              await db.execute(sql`select ${c}::int as connection`);
              await db
                .update(tenants)
                .set({ limits: { n: n + 1 } })
                .where(eq(tenants.id, tenantA));
            });
          }
        }),
      );
      const [row] = await withTenant(clients[0] as Client, tenantA, (db) =>
        db.select({ limits: tenants.limits }).from(tenants),
      );
      assert.equal((row?.limits as { n?: number } | undefined)?.n, 80);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  await check(
    "postgres: a connection dropped mid-transaction is rolled back and frees the session",
    async () => {
      const client = await appClient();
      await client.query(
        `BEGIN; SET LOCAL ROLE meridian_tenant; SELECT set_config('app.tenant_id', '${tenantA}', true)`,
      );
      await client.query("UPDATE agents SET name = 'uncommitted' WHERE id = $1", [agentA]);
      await client.end();
      const other = await appClient();
      try {
        const [row] = await withTenant(other, tenantA, (db) =>
          db.select({ name: agents.name }).from(agents).where(eq(agents.id, agentA)),
        );
        assert.equal(row?.name, "a");
      } finally {
        await other.end();
      }
    },
  );
}

/** The session gate's safety valves and the persistent data directory, on instances of their own. */
async function gateChecks(): Promise<void> {
  await check(
    "gate: a connection idle in a transaction while others wait is ended and rolled back",
    async () => {
      const embedded = await startEmbeddedPostgres({ idleInTransactionTimeoutMs: 500 });
      const url = `postgres://postgres@${embedded.host}:${embedded.port}/postgres`;
      const idle = new pg.Client(url);
      const waiter = new pg.Client(url);
      idle.on("error", () => undefined);
      try {
        await idle.connect();
        await waiter.connect();
        await idle.query("CREATE TABLE t (x int)");
        await idle.query("BEGIN; INSERT INTO t VALUES (1)");
        const { rows } = await waiter.query("select count(*)::int as n from t");
        assert.equal(rows[0]?.n, 0);
        await assert.rejects(idle.query("COMMIT"));
      } finally {
        await waiter.end();
        await idle.end().catch(() => undefined);
        await embedded.close();
      }
    },
  );

  await check("gate: refuses unknown roles and databases as a server would", async () => {
    const embedded = await startEmbeddedPostgres();
    try {
      for (const [path, message] of [
        ["nobody@HOST/postgres", /role "nobody" does not exist/],
        ["postgres@HOST/meridian", /database "meridian" does not exist/],
      ] as const) {
        const client = new pg.Client(
          `postgres://${path.replace("HOST", `${embedded.host}:${embedded.port}`)}`,
        );
        await assert.rejects(client.connect(), message);
      }
    } finally {
      await embedded.close();
    }
  });

  await check("persistence: a data directory survives a restart and is locked while in use", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meridian-pglite-"));
    const dataDir = join(dir, "pglite");
    try {
      const first = await startEmbeddedPostgres({ dataDir });
      await assert.rejects(startEmbeddedPostgres({ dataDir }), /is in use by process/);
      const client = new pg.Client(first.adminUrl);
      await client.connect();
      await client.query("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)");
      await client.end();
      await first.close();
      const second = await startEmbeddedPostgres({ dataDir });
      const again = new pg.Client(second.adminUrl);
      await again.connect();
      const { rows } = await again.query("select x from kept");
      await again.end();
      await second.close();
      assert.deepEqual(rows, [{ x: 42 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Buffer.from(digest).toString("hex");
}
