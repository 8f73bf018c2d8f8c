import { describe, expect, test } from "vitest";
import { prose } from "../../../test/fixtures/rag/sample-documents";
import { estimateTokens, tokenPrefixSums } from "./tokens";

describe("estimateTokens", () => {
  test.each([
    ["", 0],
    ["   \n\t ", 0],
    ["The quick brown fox jumps over the lazy dog.", 10],
    ["because", 1],
    ["internationalisation", 5],
    ["2026", 2],
    ["3.14159", 4],
    ["a+b=c;", 6],
    ["日本語のテキスト", 8],
    ["naïve café", 2],
    ["🚀🚀", 2],
    ["user_id", 3],
  ])("%j -> %i", (text, expected) => {
    expect(estimateTokens(text)).toBe(expected);
  });

  test("is additive over whitespace-separated parts", () => {
    const text = prose(7, 3, 5);
    const parts = text.split(/\s+/);
    expect(estimateTokens(text)).toBe(parts.reduce((sum, part) => sum + estimateTokens(part), 0));
  });
});

describe("tokenPrefixSums", () => {
  test("the last sum is the estimate of the whole text", () => {
    for (const text of [
      "",
      "a",
      "The quick brown fox.",
      prose(3, 4, 6),
      "supercalifragilistic 1234567 日本",
    ]) {
      const sums = tokenPrefixSums(text);
      expect(sums.length).toBe(text.length + 1);
      expect(sums[text.length]).toBe(estimateTokens(text));
    }
  });

  test("differences estimate any slice between words exactly", () => {
    const text = prose(11, 2, 6);
    const sums = tokenPrefixSums(text);
    const wordStarts = [0, ...Array.from(text.matchAll(/\s+/g), (m) => m.index + m[0].length)];
    for (let i = 0; i < wordStarts.length; i += 7) {
      for (let j = i + 1; j < wordStarts.length; j += 13) {
        const [a, b] = [wordStarts[i] as number, wordStarts[j] as number];
        expect((sums[b] ?? 0) - (sums[a] ?? 0)).toBe(estimateTokens(text.slice(a, b)));
      }
    }
  });

  test("steps inside a long word are cuts whose halves never estimate more than the whole", () => {
    const text = "x".repeat(41);
    const sums = tokenPrefixSums(text);
    for (let cut = 1; cut < text.length; cut++) {
      if (sums[cut] === sums[cut - 1]) continue;
      const left = estimateTokens(text.slice(0, cut));
      const right = estimateTokens(text.slice(cut));
      expect(left).toBeLessThanOrEqual(sums[cut] ?? 0);
      expect(right).toBeLessThanOrEqual((sums[text.length] ?? 0) - (sums[cut] ?? 0));
    }
  });
});
