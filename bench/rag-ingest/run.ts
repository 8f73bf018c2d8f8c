/**
 * bench/rag-ingest: chunks per second through knowledge-base ingestion against plain multi-row
 * INSERTs of the same chunk rows (same content, same vectors, same parent links), in one run.
 *
 * - `worker`: DOCS Markdown documents uploaded through `POST /v1/rag/documents/batch` to
 *   `wrangler dev`, timed from the first upload until every document is `indexed`. The local
 *   queue delivers them to Meridian's consumer (`queues/jobs/rag-ingest.ts`), which reads the
 *   original from R2 and runs `ingestDocument`.
 * - `consumer`: `ingestDocument` itself, called from Node for each document the way the
 *   consumer calls it: on connections (Neon driver, local relay) shared by a queue batch of
 *   documents, opened at the batch's first transaction and closed after its last document, as
 *   `ragIngestConnections` does; claim, parse, chunk, embed with the offline model, then replace
 *   the chunks and mark the document indexed in one transaction, each stage recorded on the way.
 * - `write only`: that last transaction alone (`completeDocument`: tenant transaction, the
 *   document marked indexed and its old chunks cleared, chunk INSERTs, usage events, on the
 *   batch's connections likewise), with the chunks and vectors computed beforehand.
 * - `baseline`: the same rows as plain multi-row INSERTs (500 rows a statement: the very
 *   statements `insertChunks` sends, from `chunkInserts`) on one open connection as the table
 *   owner: no transaction, no
 *   delete, no document update. Over `pg` straight to PostgreSQL (the baseline), over the
 *   Neon driver through the relay (to show what the driver and relay cost), and over `pg` with
 *   a new connection per document (to show what a new backend per document costs, as the
 *   consumer paid it before connections were shared by a batch).
 *
 * All but `worker` take the documents one at a time, each document through every variant in
 * turn (rotating the order), into a collection each of one tenant, so all see the same index
 * sizes and machine noise.
 *
 *   npm run bench:rag-ingest              (DOCS=100 DOC_CHARS=40000 BENCH_PORT=8796 by default)
 */
import { randomBytes } from "node:crypto";
import { type Client as NeonClient, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import WebSocket from "ws";
import { connect } from "../../db/client.ts";
import { withTenant } from "../../db/tenant.ts";
import { CONNECTIONS_PER_BATCH } from "../../queues/jobs/rag-ingest.ts";
import { newId } from "../../workers/lib/ids.ts";
import { chunkDocument, type PlannedChunk } from "../../workers/rag/chunk/chunk-document.ts";
import { DEFAULT_CHUNKING } from "../../workers/rag/chunk/settings.ts";
import { embedInBatches } from "../../workers/rag/embed/batches.ts";
import { LOCAL_EMBEDDING_MODEL, localEmbeddings } from "../../workers/rag/embed/local.ts";
import type { EmbeddingSettings } from "../../workers/rag/embed/provider.ts";
import { SharedConnections } from "../../workers/rag/ingest/connections.ts";
import { completeDocument, ingestDocument } from "../../workers/rag/ingest/ingest-document.ts";
import { chunkInserts } from "../../workers/rag/ingest/write-chunks.ts";
import { parseDocument } from "../../workers/rag/parse/parse-document.ts";
import { makeCorpus, markdownDocument, seededRandom } from "../rag-search/corpus.ts";
import {
  createBenchTenant,
  jsonClient,
  machineLoad,
  percentiles,
  printTable,
  startBenchStack,
  startBenchWorker,
  timed,
} from "../shared.ts";

// The Neon driver needs a WebSocket class in Node; Node 22 has one, Node 20 does not.
neonConfig.webSocketConstructor = WebSocket;

const DOCS = Number(process.env.DOCS ?? 100);
const DOC_CHARS = Number(process.env.DOC_CHARS ?? 40_000);
const PORT = Number(process.env.BENCH_PORT ?? 8796);
/** The target: the consumer writes at least half as many chunks a second as plain INSERTs. */
const TARGET_RATIO = 0.5;
const DIM = 384;
const UPLOADS_PER_REQUEST = 25;
/** Messages a queue batch delivers at most (wrangler.toml `max_batch_size`): they share connections. */
const BATCH_SIZE = 10;
const WORKER_TIMEOUT_MS = Number(process.env.WORKER_TIMEOUT_MS ?? 300_000);
/** Vendors the offline model never calls. */
const NO_VENDORS: EmbeddingSettings = {
  voyage: { baseUrl: "http://127.0.0.1:9" },
  openai: { baseUrl: "http://127.0.0.1:9" },
  workersAi: { baseUrl: "http://127.0.0.1:9" },
};

interface Prepared {
  title: string;
  text: string;
  bytes: Uint8Array;
  metadata: Record<string, unknown>;
  extracted: string;
  planned: PlannedChunk[];
  leafVectors: number[][];
  tokens: number;
}

interface Queryable {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

/** Milliseconds by step, summed over documents. */
type Steps = Map<string, number>;

function addStep(steps: Steps, step: string, ms: number): void {
  steps.set(step, (steps.get(step) ?? 0) + ms);
}

/** What a statement does, for the breakdown: `open tenant tx`, `insert chunks`, `lock document`... */
function statementKind(text: string): string {
  if (/^(ROLLBACK; )?BEGIN/.test(text))
    return /COMMIT$/.test(text) ? "stage stamp (one round trip)" : "open tenant tx";
  if (/^COMMIT/.test(text)) return "commit";
  if (/^with "indexed"/.test(text)) return "mark indexed, clear old chunks";
  if (/^with "claimed"/.test(text)) return "claim (update documents, select collections)";
  if (/^with "added"/.test(text)) return "insert usage_events and usage_rollups";
  const match = /^(insert into|update|delete from|select .*? from) "(\w+)"/is.exec(text);
  return match ? `${match[1]?.split(" ")[0]?.toLowerCase()} ${match[2]}` : "other statements";
}

/** Times every statement `client` sends (the real code's, unchanged) into `steps`. */
function timeStatements(client: NeonClient, steps: Steps): NeonClient {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(client, {
    query: async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await query(...args);
      } finally {
        const first = args[0] as string | { text?: string };
        addStep(
          steps,
          statementKind(typeof first === "string" ? first : (first.text ?? "")),
          performance.now() - started,
        );
      }
    },
  });
  return client;
}

/**
 * Connections shared by one queue batch's documents, as `ragIngestConnections` makes them, with
 * each opening, statement and the closing of the batch timed into `steps`.
 */
function batchConnections(
  config: { DATABASE_URL: string; NEON_WS_PROXY?: string | undefined },
  steps: Steps,
) {
  const connections = new SharedConnections(async () => {
    const opened = await timed(() => connect(config));
    addStep(steps, "connect (once a batch)", opened.ms);
    return timeStatements(opened.value, steps);
  }, CONNECTIONS_PER_BATCH);
  return {
    connections,
    async close() {
      addStep(steps, "end (awaited, once a batch)", (await timed(() => connections.close())).ms);
    },
  };
}

/** One INSERT of `rows` into `table`, numbered placeholders. */
async function insertRows(client: Queryable, table: string, columns: readonly string[], rows: unknown[][]) {
  const values = rows.map((row, r) => `(${row.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`);
  await client.query(`insert into ${table} (${columns.join(", ")}) values ${values.join(", ")}`, rows.flat());
}

const corpus = makeCorpus(7);
const random = seededRandom(11);
const docs = Array.from({ length: DOCS }, (_, i) => ({
  title: `bench document ${i + 1}`,
  text: markdownDocument(corpus, random, Math.floor(random() * corpus.topics.length), DOC_CHARS),
  metadata: { lang: "en", product: `p${i % 10}` },
}));

// The CPU stages on their own, in Node: also the chunks and vectors every variant writes.
const cpu = { parse: [] as number[], chunk: [] as number[], embed: [] as number[] };
const prepared: Prepared[] = [];
for (const doc of docs) {
  const bytes = new TextEncoder().encode(doc.text);
  const parsed = await timed(() => parseDocument(bytes, "text/markdown"));
  const planned = await timed(async () => chunkDocument(parsed.value, DEFAULT_CHUNKING));
  const leaves = planned.value.filter((c) => c.role === "leaf").map((c) => c.content);
  const embedded = await timed(() => embedInBatches(localEmbeddings(DIM), leaves, "document"));
  cpu.parse.push(parsed.ms);
  cpu.chunk.push(planned.ms);
  cpu.embed.push(embedded.ms);
  prepared.push({
    ...doc,
    bytes,
    extracted: parsed.value.text,
    planned: planned.value,
    leafVectors: embedded.value.vectors,
    tokens: embedded.value.tokens,
  });
}
const chunksPerVariant = prepared.reduce((n, d) => n + d.planned.length, 0);
const leavesPerVariant = prepared.reduce((n, d) => n + d.leafVectors.length, 0);

const startLoad = machineLoad();
const stack = await startBenchStack("meridian_bench_rag_ingest");
const admin = `mrdn_admin_${randomBytes(24).toString("base64url")}`;
let worker: Awaited<ReturnType<typeof startBenchWorker>> | undefined;
const owner = new pg.Client({ connectionString: stack.ownerUrl });
await owner.connect();
const ownerNeon = await connect({
  DATABASE_URL: stack.ownerUrl,
  NEON_WS_PROXY: stack.bindings.NEON_WS_PROXY,
});
try {
  worker = await startBenchWorker({
    script: "workers/index.ts",
    port: PORT,
    envName: "bench-rag-ingest.env",
    vars: {
      ...stack.bindings,
      PLATFORM_ADMIN_TOKEN: admin,
      ENVIRONMENT: "development",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    },
  });
  const json = jsonClient(worker.base);
  const tenant = await createBenchTenant(json, admin);
  const tenantId = (await json<{ id: string }>("/v1/tenant", { headers: tenant.owner })).id;
  const collection = async (name: string) =>
    (
      await json<{ id: string }>("/v1/rag/collections", {
        method: "POST",
        headers: tenant.owner,
        body: JSON.stringify({ name, embedding: { provider: "local" } }),
      })
    ).id;

  // --- worker: upload through the API, wait until the queue consumer has indexed everything ---
  const workerCollection = await collection("worker");
  const started = performance.now();
  for (let i = 0; i < prepared.length; i += UPLOADS_PER_REQUEST) {
    const batch = prepared.slice(i, i + UPLOADS_PER_REQUEST);
    const { data } = await json<{ data: { result: string }[] }>("/v1/rag/documents/batch", {
      method: "POST",
      headers: tenant.owner,
      body: JSON.stringify({
        collectionId: workerCollection,
        documents: batch.map((d) => ({
          title: d.title,
          mimeType: "text/markdown",
          content: d.text,
          metadata: d.metadata,
        })),
      }),
    });
    if (data.some((d) => d.result !== "queued")) throw new Error(`upload refused: ${JSON.stringify(data)}`);
  }
  const uploadedMs = performance.now() - started;
  let workerMs = 0;
  let workerChunks = 0;
  for (;;) {
    const { rows } = await owner.query<{ indexed: number; failed: number; chunks: number }>(
      `select count(*) filter (where status = 'indexed')::int as indexed,
              count(*) filter (where status = 'failed')::int as failed,
              coalesce(sum(chunk_count), 0)::int as chunks
         from documents where collection_id = $1`,
      [workerCollection],
    );
    const state = rows[0] as { indexed: number; failed: number; chunks: number };
    if (state.failed > 0) throw new Error(`${state.failed} documents failed in the Worker`);
    if (state.indexed === DOCS) {
      workerMs = performance.now() - started;
      workerChunks = state.chunks;
      break;
    }
    if (performance.now() - started > WORKER_TIMEOUT_MS) {
      const { rows: stuck } = await owner.query<{ status: string; attempts: number; n: number }>(
        `select status, attempts, count(*)::int as n from documents
          where collection_id = $1 and status <> 'indexed' group by 1, 2`,
        [workerCollection],
      );
      throw new Error(
        `after ${WORKER_TIMEOUT_MS / 1000}s only ${state.indexed}/${DOCS} documents are indexed; the rest: ` +
          `${stuck.map((r) => `${r.n} ${r.status} after ${r.attempts} attempts`).join(", ")} ` +
          "(BENCH_WRANGLER_LOGS=1 LOG_LEVEL=info shows the consumer's warnings)",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // The consumer's own time per document (database clock): from its claim to the indexed mark.
  const { rows: spans } = await owner.query<{ busy_ms: number; span_ms: number; queued_ms: number }>(
    `select sum(extract(epoch from status_changed_at - (stage_times->>'parsing')::timestamptz) * 1000)::float8 as busy_ms,
            extract(epoch from max(status_changed_at) - min((stage_times->>'parsing')::timestamptz))::float8 * 1000 as span_ms,
            extract(epoch from min((stage_times->>'parsing')::timestamptz) - min(created_at))::float8 * 1000 as queued_ms
       from documents where collection_id = $1`,
    [workerCollection],
  );
  const span = spans[0] as { busy_ms: number; span_ms: number; queued_ms: number };

  // --- the in-process variants, document by document ---
  const insertDocuments = async (collectionId: string, status: string) => {
    const ids = prepared.map(() => newId());
    await insertRows(
      owner,
      "documents",
      [
        "id",
        "tenant_id",
        "collection_id",
        "title",
        "mime_type",
        "content_hash",
        "size_bytes",
        "storage_key",
        "status",
        "metadata",
      ],
      prepared.map((d, i) => [
        ids[i],
        tenantId,
        collectionId,
        d.title,
        "text/markdown",
        randomBytes(32).toString("hex"),
        d.bytes.byteLength,
        `bench/${ids[i]}`,
        status,
        JSON.stringify(d.metadata),
      ]),
    );
    return ids as string[];
  };
  const consumerDocs = await insertDocuments(await collection("consumer"), "queued");
  const writeCollection = await collection("write only");
  const writeDocs = await insertDocuments(writeCollection, "embedding");
  const pgCollection = await collection("baseline pg");
  const pgDocs = await insertDocuments(pgCollection, "indexed");
  const neonCollection = await collection("baseline neon");
  const neonDocs = await insertDocuments(neonCollection, "indexed");
  const freshCollection = await collection("baseline fresh");
  const freshDocs = await insertDocuments(freshCollection, "indexed");
  await owner.query("analyze documents");

  // The consumer reads each original from R2; here from memory, keyed as the documents say.
  const originals = new Map(consumerDocs.map((id, i) => [`bench/${id}`, prepared[i]?.bytes as Uint8Array]));
  const bucket = {
    async get(key: string) {
      const bytes = originals.get(key);
      return bytes ? { arrayBuffer: async () => bytes.slice().buffer } : null;
    },
  } as unknown as R2Bucket;
  const app = {
    DATABASE_URL: stack.bindings.DATABASE_URL as string,
    NEON_WS_PROXY: stack.bindings.NEON_WS_PROXY,
  };

  const plainInsert = async (client: Queryable, documentId: string, collectionId: string, doc: Prepared) => {
    // The very statements the consumer sends, built by the same code.
    const write = {
      documentId,
      collectionId,
      metadata: doc.metadata,
      planned: doc.planned,
      leafVectors: doc.leafVectors,
      embeddingModel: LOCAL_EMBEDDING_MODEL,
      embeddingDim: DIM,
    } as const;
    for (const { text, params } of chunkInserts(tenantId, write)) await client.query(text, params);
  };
  const steps: Record<string, Steps> = { consumer: new Map(), "write only": new Map() };
  /** Each variant's current batch: opened at a batch's first document, closed after its last. */
  const batches = new Map<string, ReturnType<typeof batchConnections>>();
  const inBatch = async (name: string, i: number, fn: (connections: SharedConnections) => Promise<void>) => {
    const batch = batches.get(name) ?? batchConnections(app, steps[name] as Steps);
    batches.set(name, batch);
    try {
      await fn(batch.connections);
    } finally {
      if (i % BATCH_SIZE === BATCH_SIZE - 1 || i === prepared.length - 1) {
        batches.delete(name);
        await batch.close();
      }
    }
  };
  const variants: Record<string, (i: number) => Promise<void>> = {
    consumer: (i) =>
      inBatch("consumer", i, async (connections) => {
        const job = { tenantId, documentId: consumerDocs[i] as string, generation: 1 };
        const deps = { connections, bucket, embedding: NO_VENDORS, maxAttempts: 6 };
        const outcome = await ingestDocument(deps, job);
        if (outcome.kind !== "indexed") throw new Error(`consumer: ${JSON.stringify(outcome)}`);
      }),
    "write only": (i) =>
      inBatch("write only", i, async (connections) => {
        const doc = prepared[i] as Prepared;
        const job = { tenantId, documentId: writeDocs[i] as string, generation: 1 };
        await connections.use((client) =>
          withTenant(client, tenantId, async (db) => {
            const written = await completeDocument(
              db,
              job,
              {
                documentId: job.documentId,
                collectionId: writeCollection,
                metadata: doc.metadata,
                planned: doc.planned,
                leafVectors: doc.leafVectors,
                embeddingModel: LOCAL_EMBEDDING_MODEL,
                embeddingDim: DIM,
              },
              { content: doc.extracted, embeddingTokens: doc.tokens },
            );
            if (written === null) throw new Error("write only: the document is not current");
          }),
        );
      }),
    "baseline (pg)": (i) => plainInsert(owner, pgDocs[i] as string, pgCollection, prepared[i] as Prepared),
    "baseline (Neon driver)": (i) =>
      plainInsert(ownerNeon, neonDocs[i] as string, neonCollection, prepared[i] as Prepared),
    // As the consumer got it before a batch shared connections: a new backend that loads the
    // catalog entries, pgvector and the text-search dictionary on first use, for every document.
    "baseline (pg, new connection each)": async (i) => {
      const client = new pg.Client({ connectionString: stack.ownerUrl });
      await client.connect();
      try {
        await plainInsert(client, freshDocs[i] as string, freshCollection, prepared[i] as Prepared);
      } finally {
        await client.end();
      }
    },
  };
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < prepared.length; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length] as string;
      const run = variants[name] as (i: number) => Promise<void>;
      samples[name]?.push((await timed(() => run(i))).ms);
    }
  }
  const { rows: counts } = await owner.query<{ collection_id: string; n: number }>(
    "select collection_id, count(*)::int as n from chunks where tenant_id = $1 group by collection_id",
    [tenantId],
  );
  const written = new Map(counts.map((r) => [r.collection_id, r.n]));
  if (workerChunks !== chunksPerVariant || written.get(pgCollection) !== chunksPerVariant) {
    throw new Error(
      `chunk counts differ: planned ${chunksPerVariant}, worker ${workerChunks}, baseline ${written.get(pgCollection)}`,
    );
  }

  // --- report ---
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const rate = (ms: number) => chunksPerVariant / (ms / 1000);
  const baseline = rate(total(samples["baseline (pg)"] ?? []));
  const fmt = (n: number, digits = 2) => n.toFixed(digits);
  console.log(
    `rag-ingest: ${DOCS} Markdown documents of ~${DOC_CHARS} chars; ${chunksPerVariant} chunks per variant ` +
      `(${leavesPerVariant} leaves embedded, ${DIM} dimensions; default chunking 400/50/1600 tokens)`,
  );
  console.log(stack.describe.join("; "));
  console.log(`machine at the start: ${startLoad}; at the end: ${machineLoad()}`);
  console.log("");
  const p = (xs: number[]) => percentiles(xs);
  console.log("CPU per document in Node (offline model), computed before the timed runs:");
  printTable(
    ["stage", "p50 ms", "p99 ms", "total s"],
    Object.entries(cpu).map(([stage, xs]) => [stage, fmt(p(xs).p50), fmt(p(xs).p99), fmt(total(xs) / 1000)]),
  );
  console.log("");
  console.log(
    "(worker: upload through the API to indexed, queue and R2 included, documents handled concurrently by the " +
      "queue consumer; consumer: ingestDocument per document on connections shared by a batch of " +
      `${BATCH_SIZE} (opening and closing included), parse, chunk, embed, write; ` +
      "write only: the final transaction with precomputed vectors; baseline: plain multi-row INSERTs of the same " +
      "rows as the owner, on one open connection unless it says otherwise)",
  );
  const workerRatio = rate(workerMs) / baseline;
  const freshBaseline = rate(total(samples["baseline (pg, new connection each)"] ?? []));
  const rows = [
    [
      "worker (upload → indexed)",
      String(workerChunks),
      fmt(workerMs / 1000),
      fmt(rate(workerMs), 0),
      "",
      fmt(workerRatio),
      fmt(rate(workerMs) / freshBaseline),
    ],
    ...names.map((name) => {
      const xs = samples[name] ?? [];
      const r = rate(total(xs));
      return [
        name,
        String(chunksPerVariant),
        fmt(total(xs) / 1000),
        fmt(r, 0),
        fmt(p(xs).p50),
        fmt(r / baseline),
        fmt(r / freshBaseline),
      ];
    }),
  ];
  printTable(
    [
      "variant",
      "chunks",
      "seconds",
      "chunks/s",
      "p50 ms/doc",
      "ratio to baseline",
      "to new-connection baseline",
    ],
    rows,
  );
  console.log("");
  console.log(
    `worker: uploads took ${fmt(uploadedMs / 1000)} s; first claim ${fmt(span.queued_ms)} ms after the first upload; ` +
      `the consumer was busy ${fmt(span.busy_ms / 1000)} s over ${fmt(span.span_ms / 1000)} s ` +
      `(mean concurrency ${fmt(span.busy_ms / span.span_ms)}); ${fmt(rate(span.busy_ms), 0)} chunks per busy second`,
  );
  console.log("");
  console.log("Where the time goes, ms per document (mean; each statement timed as the code sends it):");
  const perDoc = (ms: number) => fmt(ms / DOCS);
  const stepNames = [...new Set([...(steps.consumer?.keys() ?? []), ...(steps["write only"]?.keys() ?? [])])];
  const stepRows = stepNames.map((step) => [
    step,
    perDoc(steps.consumer?.get(step) ?? 0),
    perDoc(steps["write only"]?.get(step) ?? 0),
  ]);
  const rest = (name: string) =>
    perDoc(total(samples[name] ?? []) - total([...(steps[name]?.values() ?? [])]));
  stepRows.push(["the rest: CPU (parse, chunk, embed, building rows)", rest("consumer"), rest("write only")]);
  stepRows.push(["all", perDoc(total(samples.consumer ?? [])), perDoc(total(samples["write only"] ?? []))]);
  printTable(["step", "consumer", "write only"], stepRows);
  console.log(
    `(baseline (pg): ${perDoc(total(samples["baseline (pg)"] ?? []))} ms per document, all of it INSERT)`,
  );
  console.log("");
  const consumerRatio = rate(total(samples.consumer ?? [])) / baseline;
  const writeRatio = rate(total(samples["write only"] ?? [])) / baseline;
  console.log(
    `target: consumer chunks/s ≥ ${TARGET_RATIO} × baseline: consumer ${fmt(consumerRatio)} ` +
      `${consumerRatio >= TARGET_RATIO ? "PASS" : "MISS"}; worker end to end ${fmt(workerRatio)} ` +
      `${workerRatio >= TARGET_RATIO ? "PASS" : "MISS"}; write only ${fmt(writeRatio)}`,
  );
} finally {
  worker?.stop();
  await ownerNeon.end().catch(() => undefined);
  await owner.end().catch(() => undefined);
  await stack.close();
}
