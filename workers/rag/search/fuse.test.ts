import { describe, expect, it } from "vitest";
import { RRF_K, reciprocalRankFusion } from "./fuse";

describe("reciprocalRankFusion", () => {
  it("sums 1 / (k + rank) over the lists, so agreement beats one high place", () => {
    const fused = reciprocalRankFusion([
      ["a", "b", "c"],
      ["b", "d"],
    ]);
    expect(fused.map((f) => f.id)).toEqual(["b", "a", "d", "c"]);
    expect(fused[0]).toEqual({ id: "b", score: 1 / (RRF_K + 2) + 1 / (RRF_K + 1), ranks: [2, 1] });
    expect(fused[1]).toEqual({ id: "a", score: 1 / (RRF_K + 1), ranks: [1, null] });
    expect(fused[3]).toEqual({ id: "c", score: 1 / (RRF_K + 3), ranks: [3, null] });
  });

  it("breaks ties by first appearance, list by list", () => {
    expect(reciprocalRankFusion([["x"], ["y"]]).map((f) => f.id)).toEqual(["x", "y"]);
    expect(reciprocalRankFusion([["y"], ["x"]]).map((f) => f.id)).toEqual(["y", "x"]);
  });

  it("counts an id repeated within one list once, at its best rank", () => {
    const [only] = reciprocalRankFusion([["a", "a"]]);
    expect(only).toEqual({ id: "a", score: 1 / (RRF_K + 1), ranks: [1] });
  });

  it("takes another k and empty lists", () => {
    expect(reciprocalRankFusion([[], []])).toEqual([]);
    expect(reciprocalRankFusion([["a"], []], 0)[0]?.score).toBe(1);
  });
});
