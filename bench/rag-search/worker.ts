/**
 * The benchmark's Worker: Meridian's own, plus two diagnostic routes that split a search's cost:
 * the vector statement alone (owner connection, no auth, no tenant wall, no embedding) and the
 * search service alone (tenant transaction opened with the HNSW settings, query embedding and
 * the vector statement, which also reads the hits' content, but no auth, no collection lookup
 * and no recorded query). Both
 * answer with a `server-timing` header splitting their time into the connection and the rest;
 * the Worker's clock moves with I/O, which both parts are made of.
 */
import { drizzle } from "drizzle-orm/neon-serverless";
import { connect } from "../../db/client";
import * as schema from "../../db/schema";
import { type TenantDb, withTenant } from "../../db/tenant";
import { type Env, parseConfig } from "../../workers/env";
import worker from "../../workers/index";
import { embeddingProvider, embeddingSettings } from "../../workers/rag/embed/provider";
import type { SearchFilter } from "../../workers/rag/search/filters";
import { type SearchCollection, searchChunks, searchSettings } from "../../workers/rag/search/search";
import { hydratedVectorSearch } from "../../workers/rag/search/vector-search";

export { AgentRun, WorkflowExecution } from "../../workers/index";

interface BenchEnv extends Env {
  /** Owner-role URL: runs the vector statement without the tenant transaction (the raw side). */
  BENCH_RAW_DATABASE_URL: string;
}

interface SqlBody {
  tenantId: string;
  collectionIds: string[];
  filter?: SearchFilter;
  vector: number[];
  topK: number;
}

interface SearchBody {
  tenantId: string;
  collections: SearchCollection[];
  query: string;
  filter?: SearchFilter;
  topK: number;
}

function serverTiming(started: number, connected: number): Record<string, string> {
  return {
    "server-timing": `connect;dur=${connected - started}, work;dur=${performance.now() - connected}`,
  };
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/sql" && request.method === "POST") {
      const body = (await request.json()) as SqlBody;
      const started = performance.now();
      const client = await connect({
        DATABASE_URL: env.BENCH_RAW_DATABASE_URL,
        NEON_WS_PROXY: env.NEON_WS_PROXY,
      });
      const connected = performance.now();
      try {
        await client.query("BEGIN");
        // The owner's drizzle with the tenant attached: the search names the tenant explicitly.
        const db = Object.assign(drizzle({ client, schema }), { tenantId: body.tenantId }) as TenantDb;
        const hits = await hydratedVectorSearch(
          db,
          { collectionIds: body.collectionIds, filter: body.filter },
          [{ collectionIds: body.collectionIds, dim: 384, vector: body.vector }],
          body.topK,
          true,
        );
        await client.query("COMMIT");
        return Response.json(
          hits.map((h) => h.chunkId),
          { headers: serverTiming(started, connected) },
        );
      } finally {
        ctx.waitUntil(client.end());
      }
    }
    if (url.pathname === "/__bench/search" && request.method === "POST") {
      const body = (await request.json()) as SearchBody;
      const config = parseConfig(env);
      const settings = embeddingSettings(config, env);
      const started = performance.now();
      const client = await connect(config);
      const connected = performance.now();
      try {
        const result = await withTenant(
          client,
          body.tenantId,
          (db) =>
            searchChunks(db, (choice) => embeddingProvider(choice, settings), {
              collections: body.collections,
              query: body.query,
              mode: "vector",
              topK: body.topK,
              filter: body.filter,
            }),
          // The HNSW settings ride in the opening round trip, as a caller that knows topK sends them.
          { readOnly: true, settings: searchSettings({ mode: "vector", topK: body.topK }) },
        );
        return Response.json(
          result.hits.map((h) => h.chunkId),
          { headers: serverTiming(started, connected) },
        );
      } finally {
        ctx.waitUntil(client.end());
      }
    }
    return worker.fetch(request, env, ctx);
  },
  queue: worker.queue,
  scheduled: worker.scheduled,
} satisfies ExportedHandler<BenchEnv, unknown>;
