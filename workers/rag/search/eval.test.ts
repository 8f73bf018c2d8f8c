import { describe, expect, it } from "vitest";
import passages from "../../../test/fixtures/rag/eval/passages.json";
import queries from "../../../test/fixtures/rag/eval/queries.json";
import { createTenant } from "../../../test/harness/fixtures";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { type SearchMode, searchChunks } from "./search";
import { offlineProviders, seedCollection, seedDocuments } from "./test-fixtures";

const K = 10;

/**
 * Floors a little under the figures measured when the set was first run (recall@10 / nDCG@10:
 * vector 0.955 / 0.939, full text 0.455 / 0.465, hybrid 0.955 / 0.939), to catch a regression
 * without pinning exact numbers. Raise them when retrieval improves; never edit the set to meet them.
 */
const FLOORS: Record<SearchMode, { recall: number; ndcg: number }> = {
  vector: { recall: 0.9, ndcg: 0.85 },
  fulltext: { recall: 0.4, ndcg: 0.4 },
  hybrid: { recall: 0.9, ndcg: 0.85 },
};

/** Share of the relevant passages found in the top k. */
function recallAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return ranked.slice(0, k).filter((id) => relevant.has(id)).length / relevant.size;
}

/** Normalised discounted cumulative gain with binary relevance: 1 when every relevant passage leads. */
function ndcgAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  const gain = (hits: boolean[]) => hits.reduce((sum, hit, i) => sum + (hit ? 1 / Math.log2(i + 2) : 0), 0);
  const ideal = gain(Array.from({ length: Math.min(k, relevant.size) }, () => true));
  return gain(ranked.slice(0, k).map((id) => relevant.has(id))) / ideal;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("retrieval quality on the labelled set (test/fixtures/rag/eval)", () => {
  it("reports recall@10 and nDCG@10 per mode", async () => {
    const tenantId = (await createTenant()).tenant.id;
    const kb = await seedCollection(tenantId, { name: "eval" });
    const seeded = await seedDocuments(
      tenantId,
      kb,
      passages.map((p) => ({ title: p.id, metadata: { topic: p.topic }, leaves: [{ content: p.text }] })),
    );
    const passageOf = new Map(seeded.map((doc, i) => [doc.leafIds[0] as string, passages[i]?.id as string]));

    const modes: SearchMode[] = ["vector", "fulltext", "hybrid"];
    const figures = await withTenantDb(tenantId, async (db) => {
      const out: Record<string, { recall: number; ndcg: number; misses: string[] }> = {};
      for (const mode of modes) {
        const recall: number[] = [];
        const ndcg: number[] = [];
        const misses: string[] = [];
        for (const q of queries) {
          const { hits } = await searchChunks(db, offlineProviders(), {
            collections: [kb],
            query: q.query,
            mode,
            topK: K,
          });
          const ranked = hits.map((h) => passageOf.get(h.chunkId) ?? "?");
          const relevant = new Set(q.relevant);
          recall.push(recallAt(ranked, relevant, K));
          ndcg.push(ndcgAt(ranked, relevant, K));
          if (recallAt(ranked, relevant, K) < 1) misses.push(q.id);
        }
        out[mode] = { recall: mean(recall), ndcg: mean(ndcg), misses };
      }
      return out;
    });

    console.log(
      [
        `retrieval eval: ${passages.length} passages, ${queries.length} queries, k = ${K}`,
        "mode       recall@10  nDCG@10  queries not fully recalled",
        ...modes.map((mode) => {
          const f = figures[mode] as { recall: number; ndcg: number; misses: string[] };
          return `${mode.padEnd(10)} ${f.recall.toFixed(3).padStart(9)}  ${f.ndcg.toFixed(3).padStart(7)}  ${f.misses.join(" ") || "-"}`;
        }),
      ].join("\n"),
    );
    for (const mode of modes) {
      expect(figures[mode]?.recall, `${mode} recall@10`).toBeGreaterThanOrEqual(FLOORS[mode].recall);
      expect(figures[mode]?.ndcg, `${mode} nDCG@10`).toBeGreaterThanOrEqual(FLOORS[mode].ndcg);
    }
  });
});
