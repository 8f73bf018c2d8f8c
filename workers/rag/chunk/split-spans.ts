import type { Section } from "../parse/types";

/** A half-open range `[start, end)` of the document's text. */
export type Span = { start: number; end: number };

/** What the splitter reads: the text, its running token counts and its sections by start. */
export type SplitSource = {
  text: string;
  /** From `tokenPrefixSums(text)`. */
  tokens: Uint32Array;
  sections: Section[];
};

/** Split points of one kind strictly inside `(start, end)`, ascending. */
type Boundaries = (source: SplitSource, start: number, end: number) => number[];

/**
 * Split points from the most to the least preferred: section starts by heading level, then
 * paragraph starts, line starts, sentence starts and word starts. A hard cut by token count
 * is the last resort, for a run with no whitespace at all.
 */
const LEVELS: Boundaries[] = [
  ...[1, 2, 3, 4, 5, 6].map((level) => sectionStarts(level)),
  matchEnds(/\n[^\S\n]*\n\s*/g),
  matchEnds(/\n\s*/g),
  matchEnds(/[.!?\u2026]["'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]\s*/g),
  matchEnds(/\s+/g),
];

/**
 * Cuts `[start, end)` into consecutive spans of at most `budget` tokens each, recursively:
 * split at the most preferred kind of boundary present, merge neighbouring pieces while they
 * fit, and split any piece too big on its own at the next kind. Each span is trimmed of
 * surrounding whitespace; whitespace-only spans are dropped. Every level scans only the
 * ranges that were too big at the level above, so the work stays linear in the text.
 *
 * @example
 * const source = { text, tokens: tokenPrefixSums(text), sections: doc.sections };
 * splitIntoSpans(source, 0, text.length, 350) // [{ start: 0, end: 1204 }, ...]
 */
export function splitIntoSpans(source: SplitSource, start: number, end: number, budget: number): Span[] {
  const spans: Span[] = [];
  split(source, start, end, budget, 0, spans);
  return spans;
}

function split(source: SplitSource, start: number, end: number, budget: number, level: number, out: Span[]) {
  if (tokensBetween(source, start, end) <= budget) {
    pushTrimmed(source.text, start, end, out);
    return;
  }
  const boundaries = LEVELS[level];
  if (boundaries === undefined) {
    hardCut(source, start, end, budget, out);
    return;
  }
  const cuts = boundaries(source, start, end);
  if (cuts.length === 0) {
    split(source, start, end, budget, level + 1, out);
    return;
  }
  cuts.push(end);
  let chunkStart = start;
  let pieceStart = start;
  for (const pieceEnd of cuts) {
    if (tokensBetween(source, chunkStart, pieceEnd) > budget) {
      if (chunkStart < pieceStart) {
        pushTrimmed(source.text, chunkStart, pieceStart, out);
        chunkStart = pieceStart;
      }
      if (tokensBetween(source, pieceStart, pieceEnd) > budget) {
        split(source, pieceStart, pieceEnd, budget, level + 1, out);
        chunkStart = pieceEnd;
      }
    }
    pieceStart = pieceEnd;
  }
  if (chunkStart < end) pushTrimmed(source.text, chunkStart, end, out);
}

/** Cuts a run without whitespace where the running token count reaches the budget. */
function hardCut(source: SplitSource, start: number, end: number, budget: number, out: Span[]) {
  let from = start;
  while (tokensBetween(source, from, end) > budget) {
    let cut = firstReaching(source.tokens, from, end, (source.tokens[from] ?? 0) + budget);
    // Never between the halves of a surrogate pair: the database would refuse the lone half.
    if (isLowSurrogate(source.text.charCodeAt(cut)) && cut - 1 > from) cut -= 1;
    pushTrimmed(source.text, from, cut, out);
    from = cut;
  }
  pushTrimmed(source.text, from, end, out);
}

/**
 * The smallest position in `(from, to]` whose running count is at least `target`
 * (binary search: the counts never decrease).
 *
 * @example
 * firstReaching(tokenPrefixSums("a b c"), 0, 5, 2) // 3
 */
export function firstReaching(tokens: Uint32Array, from: number, to: number, target: number): number {
  let low = from + 1;
  let high = to;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((tokens[middle] ?? 0) >= target) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Estimated tokens of `text.slice(start, end)` from the running counts. */
export function tokensBetween(source: SplitSource, start: number, end: number): number {
  return (source.tokens[end] ?? 0) - (source.tokens[start] ?? 0);
}

function pushTrimmed(text: string, start: number, end: number, out: Span[]) {
  let from = start;
  let to = end;
  while (from < to && isWhitespace(text.charCodeAt(from))) from += 1;
  while (to > from && isWhitespace(text.charCodeAt(to - 1))) to -= 1;
  if (from < to) out.push({ start: from, end: to });
}

/** Whether a UTF-16 code unit is whitespace as `\s` defines it. */
export function isWhitespace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function sectionStarts(level: number): Boundaries {
  return ({ sections }, start, end) => {
    const cuts: number[] = [];
    for (let i = firstSectionAfter(sections, start); i < sections.length; i++) {
      const section = sections[i] as Section;
      if (section.start >= end) break;
      if (section.level === level) cuts.push(section.start);
    }
    return cuts;
  };
}

/** Index of the first section starting after `offset` (sections are sorted by start). */
function firstSectionAfter(sections: Section[], offset: number): number {
  let low = 0;
  let high = sections.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sections[middle] as Section).start <= offset) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Split points just after each match of `pattern` (a global regex), i.e. where the next text
 * begins. Scans a slice, not the text from `start`: a scan that found nothing in the range
 * would otherwise run on to the end of the document, once per range.
 */
function matchEnds(pattern: RegExp): Boundaries {
  return ({ text }, start, end) => {
    const cuts: number[] = [];
    for (const match of text.slice(start, end).matchAll(pattern)) {
      const cut = start + match.index + match[0].length;
      if (cut > start && cut < end) cuts.push(cut);
    }
    return cuts;
  };
}
