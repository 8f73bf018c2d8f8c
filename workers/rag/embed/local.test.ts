import { describe, expect, it } from "vitest";
import { localEmbeddings } from "./local";
import { cosine } from "./test-fixtures";

describe("localEmbeddings", () => {
  it("is deterministic: the same text gives the same unit vector, in any provider instance", async () => {
    const text = "Vectors are indexed with HNSW for approximate nearest-neighbour search.";
    const [a] = (await localEmbeddings(384).embed([text], "document")).vectors;
    const [b] = (await localEmbeddings(384).embed([text], "query")).vectors;
    expect(a).toEqual(b);
    expect(a).toHaveLength(384);
    expect(Math.hypot(...(a ?? []))).toBeCloseTo(1, 10);
  });

  it("gives the same vectors in every runtime: pinned values, computed in Node, checked in workerd", async () => {
    // Words and n-grams repeated up to 15 times, so the 1 + ln(tf) weights are exercised: the
    // fake vendors (Node) and the Worker must agree to the last bit.
    const text = `Vectors are indexed with HNSW; the index's vectors are 'indexed' — Ünïcödé straße 2026! ${"index vectors indexes ".repeat(7)}`;
    const [vector = []] = (await localEmbeddings(384).embed([text], "document")).vectors;
    const nonZero = vector.flatMap((value, i) => (value === 0 ? [] : [[i, value]]));
    expect(nonZero).toHaveLength(107);
    expect(nonZero.slice(0, 6)).toEqual([
      [1, -0.11410926246821441],
      [3, -0.035690099243289634],
      [4, 0.035690099243289634],
      [6, 0.06042859090768049],
      [7, -0.11410926246821441],
      [9, -0.035690099243289634],
    ]);
    expect(vector.reduce((sum, value, i) => sum + value * (i + 1), 0)).toBe(-87.47678036659036);
  });

  it("ranks a related text above an unrelated one", async () => {
    const provider = localEmbeddings(768);
    const {
      vectors: [query, related, unrelated],
    } = await provider.embed(
      [
        "how are vectors indexed for search?",
        "The index stores each vector so that nearest-neighbour search over indexed vectors is fast.",
        "Preheat the oven and bake the bread for forty minutes until golden.",
      ],
      "document",
    );
    if (!query || !related || !unrelated) throw new Error("expected three vectors");
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.1);
  });

  it("counts estimated tokens, and gives a text without words a defined direction", async () => {
    const { vectors, tokens } = await localEmbeddings(384).embed(["a few words here", "…"], "document");
    expect(tokens).toBeGreaterThan(0);
    expect(vectors[1]?.[0]).toBe(1);
  });
});
