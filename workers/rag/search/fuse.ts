/** The usual RRF constant (Cormack et al., 2009): damps the head so one list cannot dominate. */
export const RRF_K = 60;

/** An id's fused score and its 1-based rank in each input list (null where it is absent). */
export interface FusedItem {
  id: string;
  score: number;
  ranks: (number | null)[];
}

/**
 * Reciprocal rank fusion: each id scores the sum of `1 / (k + rank)` over the lists it appears
 * in (rank from 1), so agreement between lists beats a high place in one, and the lists' own
 * scores, which are on different scales, never need calibrating. Ties keep the order in which
 * ids were first met (list by list), so the result is deterministic. A repeated id in one list
 * counts at its best rank.
 *
 * @example
 * reciprocalRankFusion([["a", "b"], ["b", "c"]]);
 * // [{ id: "b", score: 1/62 + 1/61, ranks: [2, 1] }, { id: "a", ... }, { id: "c", ... }]
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], k = RRF_K): FusedItem[] {
  const byId = new Map<string, FusedItem>();
  lists.forEach((list, which) => {
    list.forEach((id, index) => {
      let item = byId.get(id);
      if (!item) {
        item = { id, score: 0, ranks: lists.map(() => null) };
        byId.set(id, item);
      }
      if (item.ranks[which] !== null) return;
      item.ranks[which] = index + 1;
      item.score += 1 / (k + index + 1);
    });
  });
  // Array.prototype.sort is stable, so equal scores stay in first-met order.
  return [...byId.values()].sort((a, b) => b.score - a.score);
}
