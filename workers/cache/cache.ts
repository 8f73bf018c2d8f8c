import type { TenantDb } from "../../db/tenant";
import type { Config } from "../env";
import type { Logger } from "../lib/logger";
import { redisFor } from "../lib/redis";
import type { Telemetry } from "../lib/telemetry";
import { type CacheName, type CacheScope, entryKey, generationKey, scopeKey } from "./keys";

/*
 * Why generations, and not "delete the key after the commit":
 *
 * The race a plain delete loses: a reader misses, reads the old row, the writer commits and
 * deletes the key, then the reader stores the old row, which is then served until its TTL ends.
 * Here every scope (an agent, a collection, a tenant's MCP servers) has a generation in Redis: a
 * random token that every committed write replaces. A reader reads the generation together with
 * the entry (one MGET), reads the database only after that, and stores what it read tagged with
 * the generation it saw. An entry is served only while its tag is still the current generation.
 * In the race above the reader's late store carries the generation from before the write, so no
 * one is ever served it. A missing generation (never written, expired) is created with SET NX
 * before the database is read; a reader that loses that SET NX to a writer does not store at all.
 * Tokens are random, so a generation that expires and is created again never matches old entries.
 * This relies on READ COMMITTED (PostgreSQL's default, which `withTenant` keeps): each statement
 * sees every commit made before it started, so a load that follows the MGET sees any write whose
 * new generation the MGET saw.
 *
 * The database stays the source of truth: writes never go through the cache, and the generation
 * is replaced only after the tenant transaction commits (`afterCommit`). A transaction that wrote
 * a scope (and might still roll back) reads around the cache for that scope, so what it saw
 * before its commit is never stored.
 */

/** A read waits this long for Redis, then the database answers instead. */
export const READ_TIMEOUT_MS = 250;
/** An invalidation attempt waits this long; failed attempts are retried (see INVALIDATION_RETRY_MS). */
export const WRITE_TIMEOUT_MS = 1000;
/** Delays of the background retries of a failed invalidation, after the first attempt. */
export const INVALIDATION_RETRY_MS = [250, 1000, 5000] as const;
/**
 * Life of a generation token. Its length only affects the hit rate (a generation that expires is
 * created anew and the scope's entries miss once); correctness does not depend on it.
 */
export const GENERATION_TTL_SECONDS = 86_400;
/** Values larger than this (serialised) are not stored: the database answers them every time. */
export const MAX_ENTRY_CHARS = 256 * 1024;

/** What the cache needs from its caller. Only `config` is required: Durable Objects and queue consumers have no request. */
export interface CacheDeps {
  config: Pick<Config, "UPSTASH_REDIS_REST_URL" | "UPSTASH_REDIS_REST_TOKEN">;
  /** Counts `meridian_cache_requests_total` by cache and result (hit, miss). */
  telemetry?: Telemetry | undefined;
  logger?: Logger | undefined;
  /** Keeps background invalidation retries alive after the response (`ctx.waitUntil`). */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
}

/** One cached read: where the value lives, how long it may be kept, and how to check it on the way out. */
export interface CachedRead<T> {
  scope: CacheScope;
  /** A value stored beside the scope's own (see `entryKey`). */
  variant?: string;
  /** Seconds to keep the value; a function of the value for those that age (0 or less: do not store). */
  ttlSeconds: number | ((value: T) => number);
  /**
   * The stored JSON back as a value, or null when it is not one (an older shape, another tenant's
   * row): null is a miss, never an error.
   */
  decode(stored: unknown): T | null;
  /** The transaction the loader reads in: if it wrote this scope, the cache is not used. */
  db?: TenantDb | undefined;
}

/** What a stored entry holds: the generation it was read under, and the value. */
interface Entry {
  g: string;
  v: unknown;
}

type Looked<T> = { kind: "hit"; value: T } | { kind: "miss"; generation: string | null };

const written = new WeakMap<TenantDb, Set<string>>();

/**
 * Records that `db`'s transaction wrote `scope`: until it ends, its reads of that scope go to the
 * database, so an uncommitted row can neither be served from the cache nor stored in it.
 */
export function markWritten(db: TenantDb, scope: CacheScope): void {
  let scopes = written.get(db);
  if (!scopes) {
    scopes = new Set();
    written.set(db, scopes);
  }
  scopes.add(scopeKey(scope));
}

function wrote(db: TenantDb | undefined, scope: CacheScope): boolean {
  return db !== undefined && (written.get(db)?.has(scopeKey(scope)) ?? false);
}

/**
 * The value of `read` from the cache, or from `load` (then stored for the next reader). Never
 * fails because of Redis: an unreachable or slow Redis (over READ_TIMEOUT_MS) is a miss, and the
 * value is then not stored. `load`'s errors (a 404) pass through and nothing is stored.
 *
 * @throws whatever `load` throws.
 * @example
 * const agent = await readThrough(deps, { scope, ttlSeconds: 300, decode, db }, () => loadAgent(db, id));
 */
export async function readThrough<T>(
  deps: CacheDeps,
  read: CachedRead<T>,
  load: () => Promise<T>,
): Promise<T> {
  if (wrote(read.db, read.scope)) return load();
  const [looked] = await lookup(deps, [read]);
  if (looked?.kind === "hit") return looked.value;
  const value = await load();
  if (looked?.generation) await store(deps, [{ read, generation: looked.generation, value }]);
  return value;
}

/**
 * Several reads of one cache in one Redis round trip (an MGET), with one `load` for all that
 * missed: a search over three collections asks Redis once and the database at most once. `load`
 * returns the values it found by id; an id it leaves out is absent from the result and not stored.
 *
 * @throws whatever `load` throws.
 * @example
 * const rows = await readManyThrough(deps, reads, (ids) => loadCollectionsById(db, ids));
 */
export async function readManyThrough<T>(
  deps: CacheDeps,
  reads: readonly (CachedRead<T> & { scope: { id: string } })[],
  load: (ids: string[]) => Promise<Map<string, T>>,
): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  const cached = reads.filter((read) => !wrote(read.db, read.scope));
  const looked = await lookup(deps, cached);
  const missing: { read: CachedRead<T> & { scope: { id: string } }; generation: string | null }[] = [];
  cached.forEach((read, i) => {
    const outcome = looked[i];
    if (outcome?.kind === "hit") found.set(read.scope.id, outcome.value);
    else missing.push({ read, generation: outcome?.generation ?? null });
  });
  const bypassed = reads.filter((read) => !cached.includes(read));
  const toLoad = [...missing.map((m) => m.read.scope.id), ...bypassed.map((read) => read.scope.id)];
  if (toLoad.length === 0) return found;
  const loaded = await load(toLoad);
  for (const [id, value] of loaded) found.set(id, value);
  await store(
    deps,
    missing.flatMap(({ read, generation }) => {
      const value = loaded.get(read.scope.id);
      return generation && value !== undefined ? [{ read, generation, value }] : [];
    }),
  );
  return found;
}

/**
 * Retires every entry of `scope` by giving it a new generation (and drops the scope's own entry,
 * to free the memory at once). Call it only after the write has committed: `invalidateAfterCommit`
 * does that for routes. Never throws: a failed attempt is retried in the background
 * (INVALIDATION_RETRY_MS); if every attempt fails, the old entries may be served until their TTL
 * ends, and an error is logged saying so.
 *
 * @example
 * await withTenant(client, tenantId, (db) => saveDiscovery(db, id, columns));
 * await invalidate(deps, { cache: "mcp_discovery", tenantId });
 */
export async function invalidate(deps: CacheDeps, scope: CacheScope): Promise<void> {
  if (await bump(deps, scope)) return;
  const retries = (async () => {
    for (const delay of INVALIDATION_RETRY_MS) {
      await sleep(delay);
      if (await bump(deps, scope)) return;
    }
    deps.logger?.error("cache invalidation failed; stale entries may be served until their TTL ends", {
      cache: scope.cache,
      key: scopeKey(scope),
    });
  })();
  if (deps.waitUntil) deps.waitUntil(retries);
}

async function bump(deps: CacheDeps, scope: CacheScope): Promise<boolean> {
  try {
    const redis = redisFor(deps.config);
    await withTimeout(
      redis
        .pipeline()
        .set(generationKey(scope), newGeneration(), { ex: GENERATION_TTL_SECONDS })
        .del(entryKey(scope))
        .exec(),
      WRITE_TIMEOUT_MS,
    );
    return true;
  } catch (error) {
    deps.logger?.warn("cache invalidation attempt failed", {
      cache: scope.cache,
      key: scopeKey(scope),
      error: describe(error),
    });
    return false;
  }
}

/** Each read's entry if it is current, else the generation a value read now may be stored under. */
async function lookup<T>(deps: CacheDeps, reads: readonly CachedRead<T>[]): Promise<Looked<T>[]> {
  if (reads.length === 0) return [];
  const keys = reads.flatMap((read) => [generationKey(read.scope), entryKey(read.scope, read.variant)]);
  let out: Looked<T>[];
  try {
    const redis = redisFor(deps.config);
    const values = await withTimeout(redis.mget<unknown[]>(...keys), READ_TIMEOUT_MS);
    out = reads.map((read, i) => judge(read, values[2 * i], values[2 * i + 1]));
    const unset = out.flatMap((o, i) => (o.kind === "miss" && o.generation === null ? [i] : []));
    if (unset.length > 0) {
      // First reader of the scope (or its generation expired): create one before the database is read.
      const tokens = unset.map(() => newGeneration());
      const pipeline = redis.pipeline();
      unset.forEach((i, n) => {
        const scope = (reads[i] as CachedRead<T>).scope;
        pipeline.set(generationKey(scope), tokens[n], { nx: true, ex: GENERATION_TTL_SECONDS });
      });
      const created = await withTimeout(pipeline.exec<("OK" | null)[]>(), READ_TIMEOUT_MS);
      unset.forEach((i, n) => {
        // Lost to a concurrent writer (or reader): this reader stores nothing.
        out[i] = { kind: "miss", generation: created[n] === "OK" ? (tokens[n] ?? null) : null };
      });
    }
  } catch (error) {
    warnUnreachable(deps, error);
    out = reads.map(() => ({ kind: "miss", generation: null }));
  }
  reads.forEach((read, i) => {
    deps.telemetry?.counter("meridian_cache_requests_total", 1, {
      cache: read.scope.cache,
      result: out[i]?.kind ?? "miss",
    });
  });
  return out;
}

function judge<T>(read: CachedRead<T>, generation: unknown, stored: unknown): Looked<T> {
  if (generation === null || generation === undefined) return { kind: "miss", generation: null };
  const current = String(generation);
  const entry = stored as Partial<Entry> | null;
  if (entry && typeof entry === "object" && entry.g === current) {
    const value = read.decode(entry.v);
    if (value !== null) return { kind: "hit", value };
  }
  return { kind: "miss", generation: current };
}

/** Stores values read after their generation was seen. Best effort: a failure only costs a later miss. */
async function store<T>(
  deps: CacheDeps,
  items: readonly { read: CachedRead<T>; generation: string; value: T }[],
): Promise<void> {
  const writes = items.flatMap(({ read, generation, value }) => {
    const ttl = typeof read.ttlSeconds === "function" ? read.ttlSeconds(value) : read.ttlSeconds;
    if (!(ttl > 0)) return [];
    const body = JSON.stringify({ g: generation, v: value } satisfies Entry);
    if (body.length > MAX_ENTRY_CHARS) return [];
    return [{ key: entryKey(read.scope, read.variant), body, ttl: Math.ceil(ttl) }];
  });
  if (writes.length === 0) return;
  try {
    const pipeline = redisFor(deps.config).pipeline();
    for (const w of writes) pipeline.set(w.key, w.body, { ex: w.ttl });
    await withTimeout(pipeline.exec(), READ_TIMEOUT_MS);
  } catch (error) {
    warnUnreachable(deps, error);
  }
}

const newGeneration = (): string => crypto.randomUUID();

/** One warning a minute per isolate while Redis is down, not one per read. */
let lastWarnedAt = 0;
function warnUnreachable(deps: CacheDeps, error: unknown): void {
  const now = Date.now();
  if (now - lastWarnedAt < 60_000) return;
  lastWarnedAt = now;
  deps.logger?.warn("cache unavailable; reading from the database", { error: describe(error) });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export type { CacheName, CacheScope };
