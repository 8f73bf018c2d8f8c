import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, test } from "vitest";
import { connect } from "../../../db/client";
import { withTenant } from "../../../db/tenant";
import type { Collection } from "../../../db/types";
import { createTenant } from "../../../test/harness/fixtures";
import { recordStatements } from "../../../test/harness/recorded-statements";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { EmbeddingError } from "../embed/types";
import type { SearchFilter } from "./filters";
import { hydrateChunks } from "./hydrate";
import { type SearchMode, type SearchRequest, searchChunks, searchSettings } from "./search";
import {
  offlineProviders,
  type SeededDocument,
  seedCollection,
  seedDocuments,
  softDeleteDocument,
} from "./test-fixtures";

const MODES: SearchMode[] = ["vector", "fulltext", "hybrid"];

function search(tenantId: string, request: SearchRequest) {
  return withTenantDb(tenantId, (db) => searchChunks(db, offlineProviders(), request));
}

describe("searchChunks", () => {
  let tenantId: string;
  let kb: Collection;
  let docs: SeededDocument[];

  beforeAll(async () => {
    tenantId = (await createTenant()).tenant.id;
    kb = await seedCollection(tenantId, { name: "handbook" });
    docs = await seedDocuments(tenantId, kb, [
      {
        title: "API keys",
        leaves: [{ content: "To rotate an API key, create a new key, deploy it, then revoke the old key." }],
        parent:
          "Security handbook. To rotate an API key, create a new key, deploy it, then revoke the old key.",
      },
      {
        title: "Billing",
        leaves: [
          { content: "Invoices are issued on the first day of each month and can be downloaded as PDF." },
        ],
      },
      {
        title: "Database upkeep",
        leaves: [{ content: "VACUUM reclaims storage held by dead tuples in PostgreSQL tables.", page: 3 }],
      },
      { title: "Garden", leaves: [{ content: "Water tomatoes deeply twice a week during hot weather." }] },
    ]);
  });

  test.each([
    ["vector", "rotate an api key", 0],
    ["fulltext", "vacuum dead tuples", 2],
    ["hybrid", "download monthly invoices", 1],
  ] as const)("%s mode finds the obvious chunk for %j", async (mode, query, doc) => {
    const { hits } = await search(tenantId, { collections: [kb], query, mode, topK: 3 });
    expect(hits[0]).toMatchObject({
      documentId: docs[doc]?.documentId,
      chunkId: docs[doc]?.leafIds[0],
      rank: 1,
    });
    expect(hits.map((h) => h.rank)).toEqual(hits.map((_, i) => i + 1));
  });

  it("returns the chunk's document, offsets, page, metadata and each method's score", async () => {
    const { hits, embeddingTokens } = await search(tenantId, {
      collections: [kb],
      query: "vacuum dead tuples",
    });
    const [hit] = hits;
    expect(hit).toMatchObject({
      documentId: docs[2]?.documentId,
      collectionId: kb.id,
      content: "VACUUM reclaims storage held by dead tuples in PostgreSQL tables.",
      startOffset: 0,
      endOffset: 65,
      page: 3,
      metadata: {},
      document: { title: "Database upkeep", source: "seed://3", mimeType: "text/plain" },
      parent: null,
    });
    expect(hit?.scores.vector).toBeGreaterThan(0.2);
    expect(hit?.scores.fulltext).toBeGreaterThan(0);
    // Ranked first by both methods: the largest fused score there is.
    expect(hit?.score).toBeCloseTo(2 / 61, 10);
    expect(embeddingTokens).toBeGreaterThan(0);
  });

  it("scores vector hits by cosine similarity, best first, and full-text hits in [0, 1)", async () => {
    const vector = await search(tenantId, { collections: [kb], query: "rotate key", mode: "vector" });
    expect(vector.hits).toHaveLength(4);
    const scores = vector.hits.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((s) => s <= 1 && s >= -1)).toBe(true);
    expect(vector.hits.every((h) => h.scores.fulltext === null && h.scores.vector === h.score)).toBe(true);

    const fulltext = await search(tenantId, { collections: [kb], query: "key", mode: "fulltext" });
    expect(fulltext.hits.map((h) => h.documentId)).toEqual([docs[0]?.documentId]);
    expect(fulltext.hits[0]?.score).toBeGreaterThan(0);
    expect(fulltext.hits[0]?.score).toBeLessThan(1);
    expect(fulltext.embeddingTokens).toBe(0);
  });

  it("answers a stop-words-only query with no full-text hits, not an error", async () => {
    const fulltext = await search(tenantId, { collections: [kb], query: "the and of", mode: "fulltext" });
    expect(fulltext.hits).toEqual([]);
    const hybrid = await search(tenantId, { collections: [kb], query: "the and of", mode: "hybrid" });
    expect(hybrid.hits.length).toBeGreaterThan(0);
    expect(hybrid.hits.every((h) => h.scores.fulltext === null && h.scores.vector !== null)).toBe(true);
  });

  it("returns parent passages unless asked not to", async () => {
    const query = "rotate an api key";
    const withParents = await search(tenantId, { collections: [kb], query, mode: "vector", topK: 4 });
    const keyHit = withParents.hits.find((h) => h.documentId === docs[0]?.documentId);
    expect(keyHit?.parent).toEqual({
      chunkId: docs[0]?.parentId,
      content:
        "Security handbook. To rotate an API key, create a new key, deploy it, then revoke the old key.",
      startOffset: 0,
      endOffset: 94,
    });
    expect(withParents.hits.filter((h) => h !== keyHit).every((h) => h.parent === null)).toBe(true);
    const without = await search(tenantId, {
      collections: [kb],
      query,
      mode: "vector",
      includeParents: false,
    });
    expect(without.hits.every((h) => h.parent === null)).toBe(true);
    // Parents are context, never hits themselves.
    expect(withParents.hits.map((h) => h.chunkId)).not.toContain(docs[0]?.parentId);
  });

  it("reads vector hits in the vector statement itself: one round trip, the same chunks as hydrating them apart", async () => {
    const query = "rotate an api key";
    const client = await connect(env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string });
    try {
      const sent = recordStatements(client);
      const vector = await withTenant(
        client,
        tenantId,
        (db) => searchChunks(db, offlineProviders(), { collections: [kb], query, mode: "vector", topK: 4 }),
        { readOnly: true, settings: searchSettings({ mode: "vector", topK: 4 }) },
      );
      expect(sent).toHaveLength(2); // the opening (with the settings), then the search
      expect(vector.hits).toHaveLength(4);
      const apart = await withTenantDb(tenantId, (db) =>
        hydrateChunks(
          db,
          vector.hits.map((h) => h.chunkId),
          true,
        ),
      );
      expect(vector.hits.map(({ score, rank, scores, ...chunk }) => chunk)).toEqual(
        vector.hits.map((h) => apart.get(h.chunkId)),
      );
    } finally {
      await client.end();
    }
  });

  test.each(MODES)("minScore drops %s hits below it, on that mode's scale", async (mode) => {
    const query = mode === "fulltext" ? "key or invoices or tomatoes" : "rotate an api key";
    const all = await search(tenantId, { collections: [kb], query, mode, topK: 10 });
    expect(all.hits.length).toBeGreaterThan(1);
    const [first, second] = all.hits.map((h) => h.score) as [number, number];
    const minScore = (first + second) / 2;
    const some = await search(tenantId, { collections: [kb], query, mode, topK: 10, minScore });
    expect(some.hits.length).toBeGreaterThanOrEqual(1);
    expect(some.hits.length).toBeLessThan(all.hits.length);
    expect(some.hits.every((h) => h.score >= minScore)).toBe(true);
    expect(some.hits[0]?.chunkId).toBe(all.hits[0]?.chunkId);
  });

  it("never returns chunks of a deleted document, in any mode", async () => {
    const t = (await createTenant()).tenant.id;
    const c = await seedCollection(t);
    const text = "Quarterly revenue grew because enterprise renewals closed early.";
    const [kept, deleted] = await seedDocuments(t, c, [
      { leaves: [{ content: text }] },
      { leaves: [{ content: text }] },
    ]);
    await softDeleteDocument(t, deleted?.documentId as string);
    for (const mode of MODES) {
      const { hits } = await search(t, { collections: [c], query: "quarterly revenue renewals", mode });
      expect(
        hits.map((h) => h.documentId),
        mode,
      ).toEqual([kept?.documentId]);
    }
  });

  it("embeds the query once per model and searches collections of different sizes together", async () => {
    const t = (await createTenant()).tenant.id;
    const small = await seedCollection(t, { dim: 384 });
    const alsoSmall = await seedCollection(t, { dim: 384 });
    const wide = await seedCollection(t, { dim: 768 });
    const text = "Kubernetes restarts a pod whose liveness probe keeps failing.";
    for (const c of [small, alsoSmall, wide]) await seedDocuments(t, c, [{ leaves: [{ content: text }] }]);
    const providers = offlineProviders();
    const { hits } = await withTenantDb(t, (db) =>
      searchChunks(db, providers, {
        collections: [small, alsoSmall, wide],
        query: "liveness probe failing",
        mode: "vector",
      }),
    );
    expect(new Set(hits.map((h) => h.collectionId))).toEqual(new Set([small.id, alsoSmall.id, wide.id]));
    expect(providers.calls.sort()).toEqual(
      [`${small.embeddingModel}/384:query`, `${wide.embeddingModel}/768:query`].sort(),
    );
  });

  it("throws a non-retryable EmbeddingError for a provider it does not know", async () => {
    const t = (await createTenant()).tenant.id;
    const c = await seedCollection(t, { provider: "cohere", model: "embed-v4" });
    const attempt = search(t, { collections: [c], query: "anything", mode: "vector" });
    await expect(attempt).rejects.toBeInstanceOf(EmbeddingError);
    await expect(attempt).rejects.toMatchObject({ retryable: false });
    // Full-text search needs no model.
    expect((await search(t, { collections: [c], query: "anything", mode: "fulltext" })).hits).toEqual([]);
  });

  it("keeps to the tenant even when handed another tenant's collection", async () => {
    const other = (await createTenant()).tenant.id;
    for (const mode of MODES) {
      const { hits } = await search(other, { collections: [kb], query: "rotate an api key", mode });
      expect(hits, mode).toEqual([]);
    }
  });
});

describe("searchChunks filters", () => {
  let tenantId: string;
  let kb: Collection;
  const ids: Record<string, string> = {};
  const TEXT = "A field guide to configuring widgets and their sprockets.";
  const META: Record<string, Record<string, unknown>> = {
    m1: { lang: "en", product: "billing", year: 2023, published: "2023-05-01" },
    m2: { lang: "en", product: "auth", year: 2024, published: "2024-02-10", draft: true },
    m3: { lang: "de", product: "billing", year: 2025, published: "2025-01-20T09:30:00Z" },
    m4: { lang: "fr", product: "search", year: "2024" },
    m5: {},
  };

  beforeAll(async () => {
    tenantId = (await createTenant()).tenant.id;
    kb = await seedCollection(tenantId);
    const names = Object.keys(META);
    const seeded = await seedDocuments(
      tenantId,
      kb,
      names.map((name) => ({ title: name, metadata: META[name], leaves: [{ content: TEXT }] })),
    );
    names.forEach((name, i) => {
      ids[name] = seeded[i]?.documentId as string;
    });
  });

  const CRAFTED = "') or true --";
  const cases: [string, () => SearchFilter, string[]][] = [
    ["equality", () => ({ metadata: { lang: "en" } }), ["m1", "m2"]],
    ["two equalities", () => ({ metadata: { lang: "en", product: "billing" } }), ["m1"]],
    ["a number equals only a JSON number", () => ({ metadata: { year: 2024 } }), ["m2"]],
    ["a boolean", () => ({ metadata: { draft: true } }), ["m2"]],
    ["in", () => ({ metadata: { product: { in: ["auth", "search"] } } }), ["m2", "m4"]],
    ["exists", () => ({ metadata: { draft: { exists: true } } }), ["m2"]],
    ["not exists", () => ({ metadata: { draft: { exists: false } } }), ["m1", "m3", "m4", "m5"]],
    ["numeric gte skips strings", () => ({ metadata: { year: { gte: 2024 } } }), ["m2", "m3"]],
    ["numeric gt and lt", () => ({ metadata: { year: { gt: 2023, lt: 2025 } } }), ["m2"]],
    ["date gte", () => ({ metadata: { published: { gte: "2024-01-01" } } }), ["m2", "m3"]],
    ["date lt", () => ({ metadata: { published: { lt: "2024-01-01" } } }), ["m1"]],
    ["document ids", () => ({ documentIds: [ids.m3 as string, ids.m5 as string] }), ["m3", "m5"]],
    [
      "document ids and metadata",
      () => ({ documentIds: [ids.m1, ids.m2, ids.m3] as string[], metadata: { lang: "en" } }),
      ["m1", "m2"],
    ],
    ["a crafted key is only a key", () => ({ metadata: { [CRAFTED]: "x" } }), []],
    ["a crafted value is only a value", () => ({ metadata: { lang: `en' or '1'='1` } }), []],
    [
      "a crafted key in exists",
      () => ({ metadata: { [CRAFTED]: { exists: false } } }),
      ["m1", "m2", "m3", "m4", "m5"],
    ],
    ["a crafted key in a range", () => ({ metadata: { [CRAFTED]: { gte: 0 } } }), []],
  ];

  describe.each(["vector", "fulltext"] as const)("%s mode", (mode) => {
    test.each(cases)("%s", async (_, filter, expected) => {
      const { hits } = await search(tenantId, {
        collections: [kb],
        query: "configuring widgets",
        mode,
        filter: filter(),
      });
      expect(hits.map((h) => h.documentId).sort()).toEqual(expected.map((name) => ids[name]).sort());
    });
  });

  it("returns the document's metadata on each hit", async () => {
    const { hits } = await search(tenantId, {
      collections: [kb],
      query: "widgets",
      filter: { documentIds: [ids.m3 as string] },
    });
    expect(hits[0]?.metadata).toEqual(META.m3);
  });
});

describe("searchChunks with a selective filter", () => {
  it("still returns topK hits when few chunks match (iterative index scan)", async () => {
    const tenantId = (await createTenant()).tenant.id;
    const kb = await seedCollection(tenantId);
    // The 285 chunks that fail the filter are the ones nearest the query, so an index scan that
    // stopped after its first candidate list would find few of the 15 that pass.
    const common = Array.from({ length: 285 }, (_, i) => ({
      metadata: { team: "platform" },
      leaves: [
        { content: `Widget maintenance note ${i}: clean the widget filter and check the widget belt.` },
      ],
    }));
    const rare = Array.from({ length: 15 }, (_, i) => ({
      metadata: { team: "finance" },
      leaves: [{ content: `Memo ${i} about the holiday schedule, with a short mention of widget budgets.` }],
    }));
    const seeded = await seedDocuments(tenantId, kb, [...common, ...rare]);
    const rareIds = new Set(seeded.slice(285).map((d) => d.documentId));
    for (const topK of [10, 15]) {
      const { hits } = await search(tenantId, {
        collections: [kb],
        query: "widget maintenance filter belt",
        mode: "vector",
        topK,
        filter: { metadata: { team: "finance" } },
      });
      expect(hits).toHaveLength(topK);
      expect(hits.every((h) => rareIds.has(h.documentId))).toBe(true);
    }
    const unfiltered = await search(tenantId, {
      collections: [kb],
      query: "widget maintenance filter belt",
      mode: "vector",
      topK: 10,
    });
    expect(unfiltered.hits.every((h) => !rareIds.has(h.documentId))).toBe(true);
  });
});
