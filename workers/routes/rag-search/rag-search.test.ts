import { asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, test } from "vitest";
import { collections, ragQueries, ragSources } from "../../../db/schema/rag";
import type { Collection } from "../../../db/types";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant, type TenantFixture } from "../../../test/harness/fixtures";
import { receivedSpans, requestSpan } from "../../../test/harness/observability";
import { type SeededDocument, seedCollection, seedDocuments } from "../../rag/search/test-fixtures";
import { withTenantDb } from "../conversations/test-fixtures";
import type { RagSearchResponse } from "./search";

const PATH = "/v1/rag/search";

const HANDBOOK = [
  {
    title: "API keys",
    metadata: { section: "security", year: 2024 },
    leaves: [{ content: "To rotate an API key, create a new key, deploy it, then revoke the old key." }],
    parent: "Security. To rotate an API key, create a new key, deploy it, then revoke the old key.",
  },
  {
    title: "Billing",
    metadata: { section: "billing", year: 2025 },
    leaves: [{ content: "Invoices are issued on the first day of each month and can be downloaded as PDF." }],
  },
  {
    title: "Database upkeep",
    metadata: { section: "operations", year: 2023 },
    leaves: [{ content: "VACUUM reclaims storage held by dead tuples in PostgreSQL tables." }],
  },
];

function searchAs(token: string, body: Record<string, unknown>) {
  return api.post<RagSearchResponse>(PATH, { token, body });
}

describe("POST /v1/rag/search", () => {
  let a: TenantFixture;
  let kb: Collection;
  let docs: SeededDocument[];

  beforeAll(async () => {
    a = await createTenant();
    kb = await seedCollection(a.tenant.id, { name: "handbook" });
    docs = await seedDocuments(a.tenant.id, kb, HANDBOOK);
  });

  it("returns the best chunks with documents and parents, and records the query and its sources", async () => {
    const res = await searchAs(a.token, { query: "how do I rotate an API key?", collectionIds: [kb.id] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.mode).toBe("hybrid");
    expect(res.body.tookMs).toBeGreaterThanOrEqual(0);
    expect(res.body.hits.length).toBeGreaterThan(0);
    expect(res.body.hits[0]).toEqual({
      chunkId: docs[0]?.leafIds[0],
      documentId: docs[0]?.documentId,
      collectionId: kb.id,
      content: HANDBOOK[0]?.leaves[0]?.content,
      score: expect.any(Number),
      rank: 1,
      startOffset: 0,
      endOffset: 75,
      page: null,
      metadata: { section: "security", year: 2024 },
      document: { title: "API keys", source: "seed://1", mimeType: "text/plain" },
      parent: { chunkId: docs[0]?.parentId, content: HANDBOOK[0]?.parent, startOffset: 0, endOffset: 85 },
      scores: { vector: expect.any(Number), fulltext: expect.any(Number) },
    });

    const { query, sources } = await withTenantDb(a.tenant.id, async (db) => ({
      query: (await db.select().from(ragQueries).where(eq(ragQueries.id, res.body.queryId)))[0],
      sources: await db
        .select()
        .from(ragSources)
        .where(eq(ragSources.ragQueryId, res.body.queryId))
        .orderBy(asc(ragSources.rank)),
    }));
    expect(query).toMatchObject({
      tenantId: a.tenant.id,
      kind: "search",
      query: "how do I rotate an API key?",
      collectionId: kb.id,
      collectionIds: [kb.id],
      params: { mode: "hybrid", topK: 10, includeParents: true },
      latencyMs: res.body.tookMs,
      createdBy: a.owner.id,
    });
    expect(sources.map((s) => [s.chunkId, s.rank])).toEqual(res.body.hits.map((h) => [h.chunkId, h.rank]));
    sources.forEach((s, i) => {
      expect(s.score).toBeCloseTo(res.body.hits[i]?.score as number, 5);
      expect(s.cited).toBe(false);
    });
  });

  it("runs a vector search's transaction in four round trips, the record riding with the COMMIT", async () => {
    const requestId = `req_rag_search_${crypto.randomUUID()}`;
    const res = await api.post<RagSearchResponse>(PATH, {
      token: a.token,
      headers: { "x-request-id": requestId },
      body: { query: "how do I rotate an API key?", collectionIds: [kb.id], mode: "vector" },
    });
    expect(res.status).toBe(200);
    expect(res.body.hits.length).toBeGreaterThan(1);
    const { traceId } = await requestSpan(requestId);
    const statements = (await receivedSpans({ traceId }))
      .filter((s) => s.attributes["db.system"] === "postgresql")
      .sort((x, y) => (BigInt(x.startTimeUnixNano) < BigInt(y.startTimeUnixNano) ? -1 : 1));
    const opening = statements.findIndex((s) => s.name.startsWith("BEGIN"));
    // The opening; the HNSW settings with the collections; the search, which also reads the
    // chunks' content; the commit (without waiting for the flush) carrying the query's record,
    // its sources and its usage.
    expect(statements.slice(opening).map((s) => s.name)).toEqual([
      "BEGIN tenants",
      "SELECT collections",
      "SELECT chunks",
      "SET rag_queries",
    ]);
    expect(statements.at(-1)?.attributes["meridian.db.statements"]).toBe(4);
  });

  test.each([
    ["vector", "rotate api key", 0],
    ["fulltext", "vacuum dead tuples", 2],
    ["hybrid", "download monthly invoices", 1],
  ] as const)("%s mode finds the obvious chunk", async (mode, query, doc) => {
    const res = await searchAs(a.token, { query, collectionIds: [kb.id], mode, topK: 2 });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe(mode);
    expect(res.body.hits.length).toBeLessThanOrEqual(2);
    expect(res.body.hits[0]?.documentId).toBe(docs[doc]?.documentId);
  });

  it("applies filters, minScore and includeParents, and records them", async () => {
    const filtered = await searchAs(a.token, {
      query: "key invoices vacuum",
      collectionIds: [kb.id],
      mode: "vector",
      filter: { metadata: { year: { gte: 2024 } }, documentIds: [docs[1]?.documentId, docs[2]?.documentId] },
      includeParents: false,
    });
    expect(filtered.status).toBe(200);
    expect(filtered.body.hits.map((h) => h.documentId)).toEqual([docs[1]?.documentId]);
    const params = await withTenantDb(a.tenant.id, async (db) => {
      const [row] = await db.select().from(ragQueries).where(eq(ragQueries.id, filtered.body.queryId));
      return row?.params;
    });
    expect(params).toEqual({
      mode: "vector",
      topK: 10,
      includeParents: false,
      filter: { metadata: { year: { gte: 2024 } }, documentIds: [docs[1]?.documentId, docs[2]?.documentId] },
    });

    const all = await searchAs(a.token, { query: "rotate api key", collectionIds: [kb.id], mode: "vector" });
    const top = all.body.hits[0]?.score as number;
    const strict = await searchAs(a.token, {
      query: "rotate api key",
      collectionIds: [kb.id],
      mode: "vector",
      minScore: top - 0.0001,
    });
    expect(strict.body.hits.map((h) => h.chunkId)).toEqual([all.body.hits[0]?.chunkId]);
    expect(all.body.hits[0]?.parent).not.toBeNull();
  });

  test.each(["vector", "fulltext", "hybrid"])(
    "answers a NUL character in the query with 400 in %s mode, recording nothing",
    async (mode) => {
      const t = await createTenant();
      const tKb = await seedCollection(t.tenant.id);
      await seedDocuments(t.tenant.id, tKb, HANDBOOK);
      const res = await api.post<ProblemBody>(PATH, {
        token: t.token,
        body: { query: "rotate\u0000 api key", collectionIds: [tKb.id], mode },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
      expect(await withTenantDb(t.tenant.id, (db) => db.select().from(ragQueries))).toEqual([]);
    },
  );

  it("treats a crafted metadata key as a key", async () => {
    const res = await searchAs(a.token, {
      query: "rotate api key",
      collectionIds: [kb.id],
      filter: { metadata: { "') or true --": "x" } },
    });
    expect(res.status).toBe(200);
    expect(res.body.hits).toEqual([]);
  });

  test.each([
    ["an empty query", { query: "" }],
    ["a blank query", { query: "   " }],
    ["a query over 2000 characters", { query: "x".repeat(2001) }],
    ["topK 0", { topK: 0 }],
    ["topK 51", { topK: 51 }],
    ["a fractional topK", { topK: 2.5 }],
    ["no collections", { collectionIds: [] }],
    ["11 collections", { collectionIds: Array.from({ length: 11 }, () => crypto.randomUUID()) }],
    ["a collection id that is not a UUID", { collectionIds: ["handbook"] }],
    ["an unknown mode", { mode: "semantic" }],
    ["minScore above 1", { minScore: 1.5 }],
    ["an unknown field", { collection: "handbook" }],
    ["a range bound that is neither number nor date", { filter: { metadata: { year: { gte: "soon" } } } }],
    ["a nested metadata value", { filter: { metadata: { a: { b: 1 } } } }],
  ])("refuses %s with 400", async (_, change) => {
    const res = await api.post<ProblemBody>(PATH, {
      token: a.token,
      body: { query: "rotate api key", collectionIds: [kb.id], ...change },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("answers 404 for a missing, deleted or other tenant's collection alike", async () => {
    const b = await createTenant();
    const bKb = await seedCollection(b.tenant.id, { name: "handbook" });
    const deleted = await seedCollection(a.tenant.id);
    await withTenantDb(a.tenant.id, (db) =>
      db.update(collections).set({ deletedAt: new Date() }).where(eq(collections.id, deleted.id)),
    );
    for (const id of [crypto.randomUUID(), deleted.id, bKb.id]) {
      const res = await api.post<ProblemBody>(PATH, {
        token: a.token,
        body: { query: "rotate api key", collectionIds: [kb.id, id] },
      });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: "NOT_FOUND", detail: `collection ${id} not found` });
    }
  });

  it("keeps tenants apart even with the same collection name and content", async () => {
    const b = await createTenant();
    const bKb = await seedCollection(b.tenant.id, { name: "handbook" });
    const bDocs = await seedDocuments(b.tenant.id, bKb, HANDBOOK);
    const aChunks = new Set(docs.flatMap((d) => [...d.leafIds, ...(d.parentId ? [d.parentId] : [])]));
    for (const mode of ["vector", "fulltext", "hybrid"]) {
      const res = await searchAs(b.token, { query: "rotate api key", collectionIds: [bKb.id], mode });
      expect(res.status).toBe(200);
      expect(res.body.hits.length).toBeGreaterThan(0);
      for (const hit of res.body.hits) {
        expect(hit.collectionId).toBe(bKb.id);
        expect(bDocs.map((d) => d.documentId)).toContain(hit.documentId);
        expect(aChunks.has(hit.chunkId)).toBe(false);
        if (hit.parent) expect(aChunks.has(hit.parent.chunkId)).toBe(false);
      }
    }
    const crossed = await api.post<ProblemBody>(PATH, {
      token: b.token,
      body: { query: "rotate api key", collectionIds: [kb.id] },
    });
    expect(crossed.status).toBe(404);
    expect(crossed.body.code).toBe("NOT_FOUND");
  });

  it("lets every role search and refuses a missing credential", async () => {
    await expectAuthRequired({ method: "post", path: PATH, body: { query: "key", collectionIds: [kb.id] } });
    await expectRoles(
      a,
      { method: "post", path: PATH, body: { query: "key", collectionIds: [kb.id] } },
      { allowed: ["viewer", "member", "admin"], denied: [] },
    );
    const viewer = await a.keyWithRole("viewer");
    const res = await searchAs(viewer, { query: "rotate api key", collectionIds: [kb.id] });
    expect(res.status).toBe(200);
    expect(res.body.hits[0]?.documentId).toBe(docs[0]?.documentId);
  });
});

describe("POST /v1/rag/search with vendor embeddings", () => {
  it("embeds the query with the collection's vendor", async () => {
    const t = await createTenant();
    const kb = await seedCollection(t.tenant.id, { provider: "voyage", model: "voyage-3.5-lite", dim: 1024 });
    const [doc] = await seedDocuments(t.tenant.id, kb, HANDBOOK);
    const res = await searchAs(t.token, {
      query: "rotate an api key",
      collectionIds: [kb.id],
      mode: "vector",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.hits[0]?.documentId).toBe(doc?.documentId);
  });

  test.each([
    [
      "a model the vendor refuses",
      422,
      "UNPROCESSABLE",
      { model: "voyage-nonexistent" },
      "rotate an api key",
    ],
    ["a provider it does not know", 422, "UNPROCESSABLE", { provider: "cohere" }, "rotate an api key"],
    ["a vendor that is rate limiting", 503, "UNAVAILABLE", {}, "[[fail-429-long]] rotate"],
  ] as const)("answers %s with %i %s and records nothing", async (_, status, code, change, query) => {
    const t = await createTenant();
    const kb = await seedCollection(t.tenant.id, {
      provider: "voyage",
      model: "voyage-3.5-lite",
      dim: 1024,
      ...change,
    });
    const res = await api.post<ProblemBody>(PATH, {
      token: t.token,
      body: { query, collectionIds: [kb.id] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.code).toBe(code);
    expect(await withTenantDb(t.tenant.id, (db) => db.select().from(ragQueries))).toEqual([]);
  });

  it("still searches full text when the collection's vendor is failing", async () => {
    const t = await createTenant();
    const kb = await seedCollection(t.tenant.id, {
      provider: "voyage",
      model: "voyage-nonexistent",
      dim: 1024,
    });
    const [doc] = await seedDocuments(t.tenant.id, kb, HANDBOOK);
    const res = await searchAs(t.token, { query: "rotate key", collectionIds: [kb.id], mode: "fulltext" });
    expect(res.status).toBe(200);
    expect(res.body.hits[0]?.documentId).toBe(doc?.documentId);
  });
});
