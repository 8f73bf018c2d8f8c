/**
 * bench/rag-search: vector search over a seeded corpus (SEARCH_CHUNKS leaf chunks × 384
 * dimensions across 10 tenants, 5 collections each, 20 chunks a document, metadata on every
 * document). Seeded straight into PostgreSQL as the owner, indexes rebuilt, each step timed
 * (bench/rag-search/seed.ts).
 *
 * 1. Latency: p50/p99 of `POST /v1/rag/search` (mode `vector`, topK 10, an API key per tenant)
 *    through `wrangler dev`, against the same SQL run straight on one open `pg` connection (the
 *    service's own `hydratedVectorSearch`, so the same statement, which also reads the hits'
 *    content, documents and parents, with the same query vector, filter and SET LOCALs),
 *    interleaved in one run, for two scopes: one collection with a selective metadata filter,
 *    and a whole tenant (5 collections, no filter). `part:` rows split the API's cost (see
 *    bench/rag-search/worker.ts).
 * 2. Recall@10 against exact search (the same statement with `SET LOCAL enable_indexscan = off`,
 *    which leaves no path through the HNSW index), for 100 queries per scope: the statement as
 *    served (the planner's choice of path, then the exact fallback when the HNSW half comes back
 *    short), and its HNSW half forced (`enable_sort = off`: no other path gives the order) at
 *    several `ef_search`. Each row counts the plans that went through the HNSW index.
 *
 *   npm run bench:rag-search    (SEARCH_CHUNKS=100000 ITERATIONS=200 WARMUP=20 BENCH_PORT=8795 by default)
 */
import { randomBytes } from "node:crypto";
import { and, type SQLWrapper, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../db/schema/index.ts";
import { chunks, documents, embeddingDimIs, embeddingDistance } from "../../db/schema/rag.ts";
import type { TenantDb } from "../../db/tenant.ts";
import { hashedVector, LOCAL_EMBEDDING_MODEL } from "../../workers/rag/embed/local.ts";
import { liveDocumentJoin, scopeConditions } from "../../workers/rag/search/candidates.ts";
import type { SearchFilter } from "../../workers/rag/search/filters.ts";
import {
  efSearchFor,
  hydratedVectorSearch,
  type VectorGroup,
  vectorSearch,
  vectorSearchQuery,
} from "../../workers/rag/search/vector-search.ts";
import {
  createApiKeys,
  createBenchTenant,
  jsonClient,
  machineLoad,
  type Percentiles,
  percentiles,
  printTable,
  startBenchStack,
  startBenchWorker,
  timed,
} from "../shared.ts";
import { makeCorpus, queryText, seededRandom } from "./corpus.ts";
import { DIM, type SeededDocument, seedChunks } from "./seed.ts";

const SEARCH_CHUNKS = Number(process.env.SEARCH_CHUNKS ?? 100_000);
const ITERATIONS = Number(process.env.ITERATIONS ?? 200);
const WARMUP = Number(process.env.WARMUP ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 8795);
const TENANTS = 10;
const COLLECTIONS_PER_TENANT = 5;
const CHUNKS_PER_DOCUMENT = 20;
const CHUNK_WORDS = Number(process.env.CHUNK_WORDS ?? 80);
const QUERIES = 100;
/** Queries per scope whose answers are compared across all four sides before timing. */
const CHECKED = 25;
const TOP_K = 10;
const EF_SWEEP = [40, 100, 200, 400];
const HNSW_INDEX = "chunks_embedding_384_hnsw_idx";
/** Targets: the API's p50 at most this times the direct SQL's; recall@10 at least this. */
const TARGET_LATENCY_RATIO = 1.3;
const TARGET_RECALL = 0.95;

interface BenchQuery {
  tenantId: string;
  collectionIds: string[];
  filter?: SearchFilter;
  text: string;
  vector: number[];
  /** Leaf chunks the scope (tenant, collections, filter) holds. */
  inScope: number;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const runStarted = performance.now();
/** A line on stderr while the run goes on; the report itself goes to stdout at the end. */
const progress = (step: string) =>
  console.error(`[${fmt((performance.now() - runStarted) / 1000, 0)} s] ${step}…`);
const startLoad = machineLoad();

const corpus = makeCorpus(3);
const stack = await startBenchStack("meridian_bench_rag_search");
const admin = `mrdn_admin_${randomBytes(24).toString("base64url")}`;
const owner = new pg.Client({ connectionString: stack.ownerUrl });
await owner.connect();
// A second owner connection for the direct side, so its session is its own.
const direct = new pg.Client({ connectionString: stack.ownerUrl });
await direct.connect();
let worker: Awaited<ReturnType<typeof startBenchWorker>> | undefined;
try {
  worker = await startBenchWorker({
    script: "bench/rag-search/worker.ts",
    port: PORT,
    envName: "bench-rag-search.env",
    vars: {
      ...stack.bindings,
      PLATFORM_ADMIN_TOKEN: admin,
      ENVIRONMENT: "development",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
      BENCH_RAW_DATABASE_URL: stack.ownerUrl,
    },
  });
  const base = worker.base;
  const json = jsonClient(base);

  // --- tenants, keys and collections through the API; chunks straight into the database ---
  const tenants: { id: string; key: { authorization: string }; collectionIds: string[] }[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const tenant = await createBenchTenant(json, admin);
    const id = (await json<{ id: string }>("/v1/tenant", { headers: tenant.owner })).id;
    const [key] = await createApiKeys(json, tenant.owner, 1, "viewer");
    const collectionIds: string[] = [];
    for (let c = 0; c < COLLECTIONS_PER_TENANT; c++) {
      const collection = await json<{ id: string }>("/v1/rag/collections", {
        method: "POST",
        headers: tenant.owner,
        body: JSON.stringify({ name: `kb-${c + 1}`, embedding: { provider: "local" } }),
      });
      collectionIds.push(collection.id);
    }
    tenants.push({ id, key: key as { authorization: string }, collectionIds });
  }
  const chunksPerTenant = Math.floor(SEARCH_CHUNKS / TENANTS);
  progress(`seeding ${SEARCH_CHUNKS} chunks`);
  const seedStarted = performance.now();
  const seeded = await seedChunks(owner, {
    tenants: tenants.map((t) => ({ id: t.id, collectionIds: t.collectionIds })),
    chunksPerTenant,
    chunksPerDocument: CHUNKS_PER_DOCUMENT,
    chunkWords: CHUNK_WORDS,
    corpus,
    seed: 5,
  });
  const seedMs = performance.now() - seedStarted;
  const { rows: sizes } = await owner.query<{ table: string; hnsw: string }>(
    `select pg_size_pretty(pg_total_relation_size('chunks')) as table,
            pg_size_pretty(pg_relation_size('${HNSW_INDEX}')) as hnsw`,
  );

  // --- queries: each about the topic of a document of its tenant, unless `random` ---
  const random = seededRandom(9);
  const byScope = new Map<string, SeededDocument[]>();
  for (const doc of seeded.documents) {
    const key = `${doc.collectionId}/${doc.metadata.product}`;
    byScope.set(key, [...(byScope.get(key) ?? []), doc]);
  }
  const filtered = (i: number, topic: "of the document" | "random"): BenchQuery => {
    const tenant = tenants[i % TENANTS] as (typeof tenants)[number];
    const mine = seeded.documents.filter((d) => d.tenantId === tenant.id);
    const doc = mine[Math.floor(random() * mine.length)] as SeededDocument;
    const scope = byScope.get(`${doc.collectionId}/${doc.metadata.product}`) ?? [];
    const text = queryText(
      corpus,
      random,
      topic === "random" ? Math.floor(random() * corpus.topics.length) : doc.topic,
    );
    return {
      tenantId: tenant.id,
      collectionIds: [doc.collectionId],
      filter: { metadata: { product: doc.metadata.product } },
      text,
      vector: hashedVector(text, DIM),
      inScope: scope.length * CHUNKS_PER_DOCUMENT,
    };
  };
  const selective = Array.from({ length: QUERIES }, (_, i) => filtered(i, "of the document"));
  const selectiveRandomTopic = Array.from({ length: QUERIES }, (_, i) => filtered(i, "random"));
  // The same questions over wider scopes: the collection without the filter, the whole tenant.
  const collectionWide = selective.map(
    ({ filter: _, ...q }): BenchQuery => ({ ...q, inScope: chunksPerTenant / COLLECTIONS_PER_TENANT }),
  );
  const tenantWide = selective.map(
    ({ filter: _, ...q }): BenchQuery => ({
      ...q,
      collectionIds: tenants.find((t) => t.id === q.tenantId)?.collectionIds ?? [],
      inScope: chunksPerTenant,
    }),
  );
  const keyOf = new Map(tenants.map((t) => [t.id, t.key]));

  // The direct side: the service's own statements over node-postgres, on one open connection.
  const directDb = (tenantId: string) =>
    // The search functions only build and execute statements, which node-postgres's drizzle does alike.
    Object.assign(drizzle({ client: direct, schema }), { tenantId }) as unknown as TenantDb;
  const scopeOf = (q: BenchQuery) => ({ collectionIds: q.collectionIds, filter: q.filter });
  const groupOf = (q: BenchQuery): VectorGroup => ({
    collectionIds: q.collectionIds,
    dim: DIM,
    vector: q.vector,
  });
  const searchSettings = (ef: number) =>
    `select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '${ef}', true)`;
  const inTransaction = async <T>(settings: string[], fn: () => Promise<T>): Promise<T> => {
    await direct.query("BEGIN");
    try {
      for (const setting of settings) await direct.query(setting);
      return await fn();
    } finally {
      await direct.query("COMMIT");
    }
  };
  /** The API's own statement: a vector search reads its hits' content, documents and parents in it. */
  const sqlDirect = (q: BenchQuery) =>
    inTransaction([], async () =>
      (await hydratedVectorSearch(directDb(q.tenantId), scopeOf(q), [groupOf(q)], TOP_K, true)).map(
        (h) => h.chunkId,
      ),
    );
  /** The chunk ids alone, under `settings`: exact search, for recall's ground truth. */
  const idsDirect = (q: BenchQuery, settings: string[]) =>
    inTransaction(settings, async () =>
      (await vectorSearch(directDb(q.tenantId), scopeOf(q), [groupOf(q)], TOP_K)).map((h) => h.chunkId),
    );
  /** Whether `statement`, planned under `settings`, goes through the HNSW index. */
  const usesHnsw = (q: BenchQuery, settings: string[], statement: (db: TenantDb) => SQLWrapper) =>
    inTransaction(settings, async () => {
      const db = directDb(q.tenantId);
      const { rows } = await db.execute(sql`explain (format json) ${statement(db)}`);
      return JSON.stringify(rows).includes(HNSW_INDEX);
    });
  const servedStatement = (q: BenchQuery) => (db: TenantDb) =>
    vectorSearchQuery(db, scopeOf(q), groupOf(q), TOP_K);
  /** The HNSW half of vectorSearchQuery on its own, without the exact fallback. */
  const annStatement = (q: BenchQuery) => (db: TenantDb) =>
    db
      .select({ id: chunks.id, distance: sql<number>`${embeddingDistance(DIM, q.vector)}`.as("distance") })
      .from(chunks)
      .innerJoin(documents, liveDocumentJoin)
      .where(and(...scopeConditions(db, scopeOf(q)), embeddingDimIs(DIM)))
      .orderBy(sql`distance`)
      .limit(TOP_K);

  /** `server-timing` of the part: routes, by route and mark (connect, work). */
  const serverTimings = new Map<string, number[]>();
  const post = async <T>(path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${text}`);
    for (const [, mark, ms] of (res.headers.get("server-timing") ?? "").matchAll(/(\w+);dur=([\d.]+)/g)) {
      const key = `${path} ${mark}`;
      serverTimings.set(key, [...(serverTimings.get(key) ?? []), Number(ms)]);
    }
    return JSON.parse(text) as T;
  };
  const tookMs: Record<string, number[]> = { filtered: [], tenant: [] };
  const api = async (q: BenchQuery, took?: number[]) => {
    const r = await post<{ tookMs: number; hits: { chunkId: string }[] }>(
      "/v1/rag/search",
      { query: q.text, collectionIds: q.collectionIds, mode: "vector", topK: TOP_K, filter: q.filter },
      keyOf.get(q.tenantId),
    );
    took?.push(r.tookMs);
    return r.hits.map((h) => h.chunkId);
  };
  const sqlInWorker = (q: BenchQuery) =>
    post<string[]>("/__bench/sql", {
      tenantId: q.tenantId,
      collectionIds: q.collectionIds,
      filter: q.filter,
      vector: q.vector,
      topK: TOP_K,
    });
  const searchInWorker = (q: BenchQuery) =>
    post<string[]>("/__bench/search", {
      tenantId: q.tenantId,
      collections: q.collectionIds.map((id) => ({
        id,
        embeddingProvider: "local",
        embeddingModel: LOCAL_EMBEDDING_MODEL,
        embeddingDim: DIM,
      })),
      query: q.text,
      filter: q.filter,
      topK: TOP_K,
    });
  const noop = async () => {
    const res = await fetch(`${base}/health`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`/health answered ${res.status}`);
  };

  // --- before timing: every side must return the same chunks ---
  progress("checking that every side returns the same chunks");
  const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((id) => b.includes(id));
  let agree = 0;
  const checked = [...selective.slice(0, CHECKED), ...tenantWide.slice(0, CHECKED)];
  for (const q of checked) {
    const fromSql = await sqlDirect(q);
    const others = [await api(q), await sqlInWorker(q), await searchInWorker(q)];
    if (others.every((ids) => sameSet(ids, fromSql))) agree++;
  }

  // --- latency, interleaved; the direct side and the API swap order every round ---
  progress(`latency: ${WARMUP} + ${ITERATIONS} rounds`);
  const variants: [string, (i: number) => Promise<unknown>][] = [
    ["sql direct, filtered", (i) => sqlDirect(selective[i % QUERIES] as BenchQuery)],
    ["api, filtered", (i) => api(selective[i % QUERIES] as BenchQuery, tookMs.filtered)],
    ["sql direct, whole tenant", (i) => sqlDirect(tenantWide[i % QUERIES] as BenchQuery)],
    ["api, whole tenant", (i) => api(tenantWide[i % QUERIES] as BenchQuery, tookMs.tenant)],
    ["part: no-op", noop],
    ["part: sql in Worker, filtered", (i) => sqlInWorker(selective[i % QUERIES] as BenchQuery)],
    ["part: search in Worker, filtered", (i) => searchInWorker(selective[i % QUERIES] as BenchQuery)],
  ];
  const samples: Record<string, number[]> = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let i = 0; i < WARMUP; i++) for (const [, run] of variants) await run(i);
  tookMs.filtered = [];
  tookMs.tenant = [];
  serverTimings.clear();
  for (let i = 0; i < ITERATIONS; i++) {
    const round = [...variants];
    if (i % 2 === 1) {
      [round[0], round[1]] = [round[1] as (typeof round)[0], round[0] as (typeof round)[0]];
      [round[2], round[3]] = [round[3] as (typeof round)[0], round[2] as (typeof round)[0]];
    }
    for (const [name, run] of round) samples[name]?.push((await timed(() => run(i))).ms);
  }
  const stats: Record<string, Percentiles> = Object.fromEntries(
    Object.entries(samples).map(([k, xs]) => [k, percentiles(xs)]),
  );

  // --- recall@10 against exact search ---
  progress("recall");
  const truths = new Map<BenchQuery, string[]>();
  const exactMs: Record<string, number[]> = {};
  const exact = async (q: BenchQuery, set: string) => {
    const known = truths.get(q);
    if (known) return known;
    const found = await timed(() => idsDirect(q, ["SET LOCAL enable_indexscan = off"]));
    exactMs[set] = [...(exactMs[set] ?? []), found.ms];
    truths.set(q, found.value);
    return found.value;
  };
  let fallbacks = 0;
  /** The served statement as vectorSearch runs and ranks it; over TOP_K rows means the exact half ran. */
  const served = async (q: BenchQuery) => {
    const db = directDb(q.tenantId);
    const { rows } = await inTransaction([searchSettings(efSearchFor(TOP_K))], () =>
      db.execute<{ id: string; distance: number }>(servedStatement(q)(db)),
    );
    if (rows.length > TOP_K) fallbacks++;
    return [...new Map(rows.map((r) => [r.id, Number(r.distance)]))]
      .sort((a, b) => a[1] - b[1])
      .slice(0, TOP_K)
      .map(([id]) => id);
  };
  const forcedSettings = (ef: number) => [searchSettings(ef), "SET LOCAL enable_sort = off"];
  const forced = (ef: number) => async (q: BenchQuery) =>
    inTransaction(forcedSettings(ef), async () => {
      const rows = await annStatement(q)(directDb(q.tenantId));
      return rows.map((r) => r.id);
    });
  const recallRows: string[][] = [];
  const measureRecall = async (
    label: string,
    set: BenchQuery[],
    setName: string,
    search: (q: BenchQuery) => Promise<string[]>,
    plan: { settings: string[]; statement: (q: BenchQuery) => (db: TenantDb) => SQLWrapper },
  ) => {
    progress(`recall: ${label}`);
    fallbacks = 0;
    let found = 0;
    let wanted = 0;
    let worst = 1;
    let returned = 0;
    let hnswPlans = 0;
    const ms: number[] = [];
    for (const q of set) {
      const truth = await exact(q, setName);
      const got = await timed(() => search(q));
      ms.push(got.ms);
      const hit = got.value.filter((id) => truth.includes(id)).length;
      found += hit;
      wanted += truth.length;
      returned += got.value.length;
      worst = Math.min(worst, truth.length === 0 ? 1 : hit / truth.length);
      if (await usesHnsw(q, plan.settings, plan.statement(q))) hnswPlans++;
    }
    const recall = found / wanted;
    recallRows.push([
      label,
      fmt(recall, 3),
      fmt(worst),
      fmt(returned / set.length, 1),
      `${hnswPlans}/${set.length}`,
      search === served ? `${fallbacks}/${set.length}` : "",
      fmt(percentiles(ms).p50),
    ]);
    return recall;
  };
  const servedPlan = { settings: [searchSettings(efSearchFor(TOP_K))], statement: servedStatement };
  const forcedPlan = (ef: number) => ({ settings: forcedSettings(ef), statement: annStatement });
  const defaultEf = efSearchFor(TOP_K);
  const servedRecall = await measureRecall("filtered: served", selective, "filtered", served, servedPlan);
  for (const ef of EF_SWEEP) {
    await measureRecall(`filtered: HNSW forced, ef ${ef}`, selective, "filtered", forced(ef), forcedPlan(ef));
  }
  await measureRecall(
    "filtered, random topic: served",
    selectiveRandomTopic,
    "random topic",
    served,
    servedPlan,
  );
  await measureRecall(
    `filtered, random topic: HNSW forced, ef ${defaultEf}`,
    selectiveRandomTopic,
    "random topic",
    forced(defaultEf),
    forcedPlan(defaultEf),
  );
  await measureRecall("collection: served", collectionWide, "collection", served, servedPlan);
  await measureRecall(
    `collection: HNSW forced, ef ${defaultEf}`,
    collectionWide,
    "collection",
    forced(defaultEf),
    forcedPlan(defaultEf),
  );
  const tenantRecall = await measureRecall("whole tenant: served", tenantWide, "tenant", served, servedPlan);
  for (const ef of EF_SWEEP) {
    await measureRecall(
      `whole tenant: HNSW forced, ef ${ef}`,
      tenantWide,
      "tenant",
      forced(ef),
      forcedPlan(ef),
    );
  }

  // --- the plans, to show which path each scope takes ---
  const planOf = async (q: BenchQuery, settings: string[], statement: (db: TenantDb) => SQLWrapper) =>
    inTransaction(settings, async () => {
      const db = directDb(q.tenantId);
      const { rows } = await db.execute<{ "QUERY PLAN": string }>(
        sql`explain (analyze, costs off, timing off, summary on) ${statement(db)}`,
      );
      return rows.map((r) => r["QUERY PLAN"].replace(/'\[[^\]]*\]'::vector/g, "'[…]'::vector"));
    });
  const q0 = selective[0] as BenchQuery;
  const t0 = tenantWide[0] as BenchQuery;
  const plans: [string, string[]][] = [
    ["filtered, served", await planOf(q0, servedPlan.settings, servedStatement(q0))],
    [`filtered, HNSW forced, ef ${defaultEf}`, await planOf(q0, forcedSettings(defaultEf), annStatement(q0))],
    ["whole tenant, served", await planOf(t0, servedPlan.settings, servedStatement(t0))],
  ];

  // --- report ---
  const inScope = percentiles(selective.map((q) => q.inScope));
  console.log(
    `rag-search: ${seeded.chunks} leaf chunks × ${DIM} dims, ${TENANTS} tenants × ${COLLECTIONS_PER_TENANT} collections, ` +
      `${CHUNKS_PER_DOCUMENT} chunks a document of ~${CHUNK_WORDS} words each; chunks table ${sizes[0]?.table}, ` +
      `HNSW index ${sizes[0]?.hnsw} (m 16, ef_construction 64)`,
  );
  console.log(stack.describe.join("; "));
  console.log(`machine at the start: ${startLoad}; at the end: ${machineLoad()}`);
  console.log("");
  console.log(`seeding: ${fmt(seedMs / 1000, 1)} s in all`);
  printTable(
    ["step", "seconds"],
    seeded.timings.map(([name, ms]) => [name, fmt(ms / 1000, 1)]),
  );
  console.log("");
  console.log(
    `queries: ${QUERIES} per scope. filtered: one collection of one tenant and {product: pN}, chunks in scope ` +
      `p50 ${inScope.p50} (${fmt((100 * inScope.p50) / seeded.chunks, 2)}% of the index), min ` +
      `${Math.min(...selective.map((q) => q.inScope))}; collection: ${chunksPerTenant / COLLECTIONS_PER_TENANT} ` +
      `chunks (${fmt((100 * chunksPerTenant) / COLLECTIONS_PER_TENANT / seeded.chunks, 1)}%); whole tenant: ` +
      `${chunksPerTenant} chunks in ${COLLECTIONS_PER_TENANT} collections (${fmt((100 * chunksPerTenant) / seeded.chunks, 1)}%)`,
  );
  console.log(
    `the API, the direct SQL and both part: routes returned the same ${TOP_K} chunks for ${agree}/${checked.length} queries`,
  );
  console.log("");
  console.log(
    `latency: ${ITERATIONS} interleaved searches per variant, sequential, after ${WARMUP} warm-up rounds`,
  );
  console.log(
    "(sql direct: BEGIN, the SET LOCALs, the vector statement with its hits' content, COMMIT on one open pg connection; api: " +
      "POST /v1/rag/search with an API key; part: rows through wrangler dev: /health; the statement on a new " +
      "owner connection; the search service (embedding, statement) in a tenant transaction)",
  );
  const ratioTo = (name: string, baseline: string) =>
    (stats[name] as Percentiles).p50 / (stats[baseline] as Percentiles).p50;
  printTable(
    ["variant", "p50 ms", "p99 ms", "p50 ratio to sql direct", "p50 added ms"],
    Object.entries(stats).map(([name, s]) => {
      const baseline =
        stats[name.endsWith("whole tenant") ? "sql direct, whole tenant" : "sql direct, filtered"];
      return [
        name,
        fmt(s.p50),
        fmt(s.p99),
        fmt(s.p50 / (baseline?.p50 ?? Number.NaN)),
        fmt(s.p50 - (baseline?.p50 ?? Number.NaN)),
      ];
    }),
  );
  for (const [scope, xs] of Object.entries(tookMs)) {
    const took = percentiles(xs);
    console.log(
      `api tookMs, ${scope} (the Worker's clock around searchChunks): p50 ${took.p50}, p99 ${took.p99}`,
    );
  }
  for (const [key, xs] of serverTimings) {
    const s = percentiles(xs);
    console.log(`server-timing ${key} (the Worker's clock): p50 ${fmt(s.p50)}, p99 ${fmt(s.p99)}`);
  }
  console.log("");
  console.log(
    "recall@10 against exact search (enable_indexscan off); exact p50 ms per query: " +
      Object.entries(exactMs)
        .map(([set, xs]) => `${set} ${fmt(percentiles(xs).p50)}`)
        .join(", "),
  );
  printTable(
    ["search", "recall@10", "worst query", "rows back", "HNSW plans", "exact fallback", "p50 ms"],
    recallRows,
  );
  for (const [label, lines] of plans) {
    console.log("");
    console.log(`plan, ${label} (query 1):`);
    for (const line of lines) console.log(`  ${line}`);
  }
  console.log("");
  const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
  const filteredRatio = ratioTo("api, filtered", "sql direct, filtered");
  const tenantRatio = ratioTo("api, whole tenant", "sql direct, whole tenant");
  console.log(
    `targets: api p50 ≤ ${TARGET_LATENCY_RATIO} × sql direct: filtered ${fmt(filteredRatio)} ${verdict(filteredRatio <= TARGET_LATENCY_RATIO)}, ` +
      `whole tenant ${fmt(tenantRatio)} ${verdict(tenantRatio <= TARGET_LATENCY_RATIO)}; ` +
      `recall@10 ≥ ${TARGET_RECALL} (served): filtered ${fmt(servedRecall, 3)} ${verdict(servedRecall >= TARGET_RECALL)}, ` +
      `whole tenant ${fmt(tenantRecall, 3)} ${verdict(tenantRecall >= TARGET_RECALL)}`,
  );
} finally {
  worker?.stop();
  await direct.end().catch(() => undefined);
  await owner.end().catch(() => undefined);
  await stack.close();
}
