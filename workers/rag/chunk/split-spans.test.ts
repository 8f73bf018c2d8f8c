import { describe, expect, test } from "vitest";
import type { Section } from "../parse/types";
import { firstReaching, type SplitSource, splitIntoSpans, tokensBetween } from "./split-spans";
import { tokenPrefixSums } from "./tokens";

const source = (text: string, sections: Section[] = []): SplitSource => ({
  text,
  tokens: tokenPrefixSums(text),
  sections,
});
const slices = (s: SplitSource, budget: number) =>
  splitIntoSpans(s, 0, s.text.length, budget).map(({ start, end }) => s.text.slice(start, end));

describe("splitIntoSpans", () => {
  test("returns the trimmed range when it fits", () => {
    expect(slices(source("  one two three \n"), 10)).toEqual(["one two three"]);
  });

  test("splits at blank lines before line breaks, and merges pieces while they fit", () => {
    const text = "a b c\nd e f\n\ng h i\nj k l";
    expect(slices(source(text), 6)).toEqual(["a b c\nd e f", "g h i\nj k l"]);
    expect(slices(source(text), 3)).toEqual(["a b c", "d e f", "g h i", "j k l"]);
  });

  test("splits at sentence ends, then at spaces", () => {
    expect(slices(source("One two. Three four. Five six."), 3)).toEqual([
      "One two.",
      "Three four.",
      "Five six.",
    ]);
    expect(slices(source("one two three four five"), 2)).toEqual(["one two", "three four", "five"]);
  });

  test("splits at a higher-level section start before a lower-level one", () => {
    const text = "# A\nx\n## B\ny\n# C\nz";
    const sections: Section[] = [
      { start: 0, level: 1, title: "A" },
      { start: 6, level: 2, title: "B" },
      { start: 13, level: 1, title: "C" },
    ];
    expect(slices(source(text, sections), 8)).toEqual(["# A\nx\n## B\ny", "# C\nz"]);
    expect(slices(source(text, sections), 4)).toEqual(["# A\nx", "## B\ny", "# C\nz"]);
  });

  test("hard-cuts a run without whitespace at the budget", () => {
    const s = source("x".repeat(40));
    const spans = splitIntoSpans(s, 0, 40, 3);
    expect(spans).toEqual([
      { start: 0, end: 12 },
      { start: 12, end: 24 },
      { start: 24, end: 36 },
      { start: 36, end: 40 },
    ]);
    for (const span of spans) expect(tokensBetween(s, span.start, span.end)).toBeLessThanOrEqual(3);
  });

  test("splits only the given range", () => {
    const s = source("skip me. one two. three four. skip me too.");
    const start = s.text.indexOf("one");
    const end = s.text.indexOf(" skip me too");
    expect(splitIntoSpans(s, start, end, 3).map((span) => s.text.slice(span.start, span.end))).toEqual([
      "one two.",
      "three four.",
    ]);
  });
});

describe("firstReaching", () => {
  test("finds the first position whose running count reaches the target", () => {
    const tokens = tokenPrefixSums("a b c d");
    expect(firstReaching(tokens, 0, 7, 1)).toBe(1);
    expect(firstReaching(tokens, 0, 7, 3)).toBe(5);
    expect(firstReaching(tokens, 2, 7, -5)).toBe(3);
  });
});
