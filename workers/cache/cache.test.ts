import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import { agents } from "../../db/schema";
import { type TenantDb, withTenant } from "../../db/tenant";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { scrape } from "../../test/harness/prometheus";
import { parseConfig } from "../env";
import { redisFor } from "../lib/redis";
import { telemetryFor } from "../observability/telemetry";
import { loadAgent } from "../routes/agents/load";
import type { AgentResponse } from "../routes/agents/schemas";
import { cachedAgent } from "./agents";
import {
  type CacheDeps,
  type CachedRead,
  invalidate,
  MAX_ENTRY_CHARS,
  markWritten,
  READ_TIMEOUT_MS,
  readManyThrough,
  readThrough,
} from "./cache";
import { type CacheScope, entryKey, generationKey, scopeKey } from "./keys";

const config = parseConfig(env);
const deps: CacheDeps = { config };
const redis = redisFor(config);

/** A scope no other test touches: a fresh tenant id (keys only; no rows needed). */
function freshScope(id = crypto.randomUUID()): CacheScope {
  return { cache: "agent", tenantId: crypto.randomUUID(), id };
}

function textRead(scope: CacheScope, extra: Partial<CachedRead<string>> = {}): CachedRead<string> {
  return {
    scope,
    ttlSeconds: 60,
    decode: (stored) => (typeof stored === "string" ? stored : null),
    ...extra,
  };
}

/** A loader that counts its calls and answers what `value` holds at the time. */
function counting(value: { current: string }) {
  const loader = async () => {
    loader.calls++;
    return value.current;
  };
  loader.calls = 0;
  return loader;
}

/** Telemetry into a metrics namespace of the test's own, so its counts are exact. */
function ownTelemetry() {
  const namespace = `test-${crypto.randomUUID()}`;
  const telemetry = telemetryFor({ ...config, METRICS_NAMESPACE: namespace });
  return {
    telemetry,
    async count(cache: string, result: "hit" | "miss") {
      await telemetry.flush();
      const s = await scrape({ namespace });
      return s.value(`meridian_cache_requests_total{cache="${cache}",result="${result}"}`);
    },
  };
}

/** Runs `fn` in a tenant transaction of its own connection, as a second request would. */
async function inTenant<T>(tenantId: string, fn: (db: TenantDb) => Promise<T>): Promise<T> {
  const client = await connect(config);
  try {
    return await withTenant(client, tenantId, fn);
  } finally {
    await client.end();
  }
}

describe("cache keys", () => {
  it("start with the tenant and refuse segments that could reach another key", () => {
    const tenantId = crypto.randomUUID();
    const id = crypto.randomUUID();
    expect(scopeKey({ cache: "agent", tenantId, id })).toBe(`cache:v1:${tenantId}:agent:${id}`);
    expect(generationKey({ cache: "mcp_discovery", tenantId })).toBe(
      `cache:v1:${tenantId}:mcp_discovery:gen`,
    );
    expect(entryKey({ cache: "agent", tenantId, id }, "version:3")).toBe(
      `cache:v1:${tenantId}:agent:${id}:version:3`,
    );
    expect(() => scopeKey({ cache: "agent", tenantId: "not-a-uuid", id })).toThrow(/not a UUID/);
    expect(() => scopeKey({ cache: "agent", tenantId, id: `${id}:version:3` })).toThrow(/plain segment/);
    expect(() => entryKey({ cache: "agent", tenantId, id }, "gen")).toThrow(/generation/);
    expect(() => entryKey({ cache: "agent", tenantId, id }, "a b")).toThrow(/plain segment/);
  });
});

describe("readThrough", () => {
  it("loads on the first read and serves the stored value after, counting misses and hits", async () => {
    const { telemetry, count } = ownTelemetry();
    const scope = freshScope();
    const value = { current: "v1" };
    const load = counting(value);
    expect(await readThrough({ ...deps, telemetry }, textRead(scope), load)).toBe("v1");
    value.current = "changed behind the cache's back";
    expect(await readThrough({ ...deps, telemetry }, textRead(scope), load)).toBe("v1");
    expect(await readThrough({ ...deps, telemetry }, textRead(scope), load)).toBe("v1");
    expect(load.calls).toBe(1);
    expect(await count("agent", "miss")).toBe(1);
    expect(await count("agent", "hit")).toBe(2);
  });

  it("serves nothing stored before an invalidation", async () => {
    const scope = freshScope();
    const value = { current: "old" };
    const load = counting(value);
    await readThrough(deps, textRead(scope), load);
    const variant = textRead(scope, { variant: "version:1" });
    await readThrough(deps, variant, load);
    value.current = "new";
    await invalidate(deps, scope);
    expect(await readThrough(deps, textRead(scope), load)).toBe("new");
    // Variants share the scope's generation: retired with it.
    expect(await readThrough(deps, variant, load)).toBe("new");
    expect(load.calls).toBe(4);
  });

  it("keeps tenants apart: the same id in two tenants is two entries", async () => {
    const id = crypto.randomUUID();
    const a = freshScope(id);
    const b = freshScope(id);
    expect(await readThrough(deps, textRead(a), async () => "a's")).toBe("a's");
    expect(await readThrough(deps, textRead(b), async () => "b's")).toBe("b's");
    expect(await readThrough(deps, textRead(a), async () => "unused")).toBe("a's");
    await invalidate(deps, a);
    expect(await readThrough(deps, textRead(b), async () => "unused")).toBe("b's");
  });

  it("never serves a value a slow reader read before a write that committed meanwhile", async () => {
    // The race a delete-after-commit cache loses: the reader misses and reads the old row, the
    // writer commits and invalidates, then the reader stores the old row.
    const scope = freshScope();
    const value = { current: "old" };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let readerHasRead: () => void = () => undefined;
    const hasRead = new Promise<void>((resolve) => {
      readerHasRead = resolve;
    });
    const slowReader = readThrough(deps, textRead(scope), async () => {
      const read = value.current;
      readerHasRead();
      await gate;
      return read;
    });
    await hasRead;
    value.current = "new"; // the writer commits
    await invalidate(deps, scope); // ...and invalidates after its commit
    release();
    expect(await slowReader).toBe("old"); // what that reader saw: it overlapped the write
    // The old value did reach Redis, but under the generation from before the write: never served.
    const stored = (await redis.get<{ g: string; v: string }>(entryKey(scope))) as { g: string; v: string };
    expect(stored.v).toBe("old");
    expect(stored.g).not.toBe(String(await redis.get(generationKey(scope))));
    const load = counting(value);
    expect(await readThrough(deps, textRead(scope), load)).toBe("new");
    expect(await readThrough(deps, textRead(scope), load)).toBe("new");
    expect(load.calls).toBe(1);
  });

  it("stores nothing when a writer creates the first generation while the reader reads", async () => {
    const scope = freshScope();
    const value = { current: "old" };
    // The reader finds no generation and creates one; a writer replaces it before the reader stores.
    const reader = readThrough(deps, textRead(scope), async () => {
      const read = value.current;
      value.current = "new";
      await invalidate(deps, scope);
      return read;
    });
    expect(await reader).toBe("old");
    expect(await readThrough(deps, textRead(scope), async () => value.current)).toBe("new");
  });

  it("reads around the cache in a transaction that wrote the scope, and stores nothing from it", async () => {
    const { tenant, token } = await createTenant();
    const created = await api.post<AgentResponse>("/v1/agents", {
      token,
      body: { name: "committed", model: "claude-sonnet-4-6" },
    });
    const id = created.body.id;
    const first = await inTenant(tenant.id, (db) => cachedAgent(deps, db, id));
    expect(first.name).toBe("committed");

    // A writer renames the agent and reads it back, then rolls back.
    const rolledBack = inTenant(tenant.id, async (db) => {
      markWritten(db, { cache: "agent", tenantId: tenant.id, id });
      await db.update(agents).set({ name: "uncommitted" }).where(eq(agents.id, id));
      const seen = await cachedAgent(deps, db, id);
      expect(seen.name).toBe("uncommitted"); // its own write, not the cached row
      throw new Error("roll back");
    });
    await expect(rolledBack).rejects.toThrow("roll back");
    const after = await inTenant(tenant.id, (db) => cachedAgent(deps, db, id));
    expect(after.name).toBe("committed");
    await expect(inTenant(tenant.id, (db) => loadAgent(db, id))).resolves.toMatchObject({
      name: "committed",
    });
  });

  it("does not store a load that fails, nor a value over the size limit or with no TTL", async () => {
    const scope = freshScope();
    await expect(
      readThrough(deps, textRead(scope), async () => {
        throw new Error("not found");
      }),
    ).rejects.toThrow("not found");
    const big = "x".repeat(MAX_ENTRY_CHARS + 1);
    await readThrough(deps, textRead(scope), async () => big);
    expect(await redis.get(entryKey(scope))).toBeNull();
    await readThrough(deps, textRead(scope, { ttlSeconds: () => 0 }), async () => "aged");
    expect(await redis.get(entryKey(scope))).toBeNull();
    const load = counting({ current: "small" });
    await readThrough(deps, textRead(scope), load);
    await readThrough(deps, textRead(scope), load);
    expect(load.calls).toBe(1);
  });

  it("treats a stored value the decoder refuses as a miss", async () => {
    const scope = freshScope();
    await readThrough(deps, textRead(scope), async () => "text");
    const numbers: CachedRead<number> = {
      scope,
      ttlSeconds: 60,
      decode: (stored) => (typeof stored === "number" ? stored : null),
    };
    expect(await readThrough(deps, numbers, async () => 7)).toBe(7);
  });
});

describe("readManyThrough", () => {
  it("reads several entries in one go, loads only the misses, and leaves out what the loader did not find", async () => {
    const tenantId = crypto.randomUUID();
    const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const reads = (ids: string[]) =>
      ids.map((id) => ({
        scope: { cache: "collection" as const, tenantId, id },
        ttlSeconds: 60,
        decode: (stored: unknown) => (typeof stored === "string" ? stored : null),
      }));
    const asked: string[][] = [];
    const load = async (ids: string[]) => {
      asked.push(ids);
      return new Map(ids.filter((id) => id !== c).map((id) => [id, `row ${id}`]));
    };
    expect([...(await readManyThrough(deps, reads([a]), load)).entries()]).toEqual([[a, `row ${a}`]]);
    const found = await readManyThrough(deps, reads([a, b, c]), load);
    expect(asked).toEqual([[a], [b, c]]);
    expect(found.get(a)).toBe(`row ${a}`);
    expect(found.get(b)).toBe(`row ${b}`);
    expect(found.has(c)).toBe(false);
    await invalidate(deps, { cache: "collection", tenantId, id: b });
    await readManyThrough(deps, reads([a, b]), load);
    expect(asked.at(-1)).toEqual([b]);
  });
});

describe("with Redis unreachable", () => {
  const down: CacheDeps = {
    config: { ...config, UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1" },
  };

  it("answers every read from the loader at once, counted as misses", async () => {
    const { telemetry, count } = ownTelemetry();
    const scope = freshScope();
    const load = counting({ current: "from the database" });
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      expect(await readThrough({ ...down, telemetry }, textRead(scope), load)).toBe("from the database");
    }
    expect(Date.now() - started).toBeLessThan(3 * (READ_TIMEOUT_MS + 100));
    expect(load.calls).toBe(3);
    expect(await count("agent", "miss")).toBe(3);
  });

  it("answers from the loader when the server answers something that is not Redis", async () => {
    const notRedis: CacheDeps = {
      config: {
        ...config,
        UPSTASH_REDIS_REST_URL: (env as unknown as { FAKE_OTLP_URL: string }).FAKE_OTLP_URL,
      },
    };
    const load = counting({ current: "from the database" });
    expect(await readThrough(notRedis, textRead(freshScope()), load)).toBe("from the database");
    expect(load.calls).toBe(1);
  });

  it("lets an invalidation fail without throwing, and retries it in the background", async () => {
    const background: Promise<unknown>[] = [];
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (msg: string) => warnings.push(msg),
      error() {},
      with() {
        return logger;
      },
    };
    const started = Date.now();
    await invalidate({ ...down, logger, waitUntil: (p) => background.push(p) }, freshScope());
    expect(Date.now() - started).toBeLessThan(1500);
    expect(warnings).toContain("cache invalidation attempt failed");
    expect(background).toHaveLength(1);
  });
});
