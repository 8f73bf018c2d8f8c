import type { PageSpan, ParsedDocument } from "../parse/types";
import type { ChunkingSettings } from "./settings";
import { firstReaching, isWhitespace, type Span, type SplitSource, splitIntoSpans } from "./split-spans";
import { estimateTokens, tokenPrefixSums } from "./tokens";

/** One chunk to store for a document. */
export type PlannedChunk = {
  /** 0..n-1 in document order over all chunks (a parent comes right before its leaves). */
  ordinal: number;
  /** Leaves are embedded and searched; parents are returned as context for their leaves. */
  role: "parent" | "leaf";
  /** A leaf's parent (null for parents and for flat chunks). */
  parentOrdinal: number | null;
  /** Exactly `text.slice(startOffset, endOffset)`. */
  content: string;
  startOffset: number;
  endOffset: number;
  /** PDF: the page where the chunk starts. */
  page: number | null;
  tokenCount: number;
};

/**
 * Plans the chunks of a parsed document. Structure first: splits prefer section starts, then
 * paragraphs, lines, sentences and words, and cut mid-word only in a run without spaces.
 * - Every leaf has at most `chunkTokens` (estimated), its overlap included.
 * - With `parentTokens` set, parents are whole sections (neighbouring small sections merged,
 *   a big one cut into windows) of at most `parentTokens`, and each parent's leaves are cut
 *   from it alone, so every leaf lies inside exactly one parent.
 * - A leaf starts with about `overlapTokens` from the end of the leaf before it, from a word
 *   start. Not across a parent's edge (it would leave the parent) and not before a section
 *   start (the heading is the better start, and the previous section is about something else).
 * Deterministic, and linear in the text: token counts come from one pass of running sums.
 *
 * @example
 * const chunks = chunkDocument(await parseDocument(bytes, "text/markdown"), DEFAULT_CHUNKING);
 * chunks.filter((chunk) => chunk.role === "leaf") // what gets embedded
 */
export function chunkDocument(doc: ParsedDocument, settings: ChunkingSettings): PlannedChunk[] {
  const sections = [...doc.sections].sort((a, b) => a.start - b.start);
  const source: SplitSource = { text: doc.text, tokens: tokenPrefixSums(doc.text), sections };
  const sectionStarts = new Set(sections.map((section) => section.start));
  const leafBudget = settings.chunkTokens - settings.overlapTokens;
  const leavesOf = (range: Span) =>
    withOverlap(
      source,
      splitIntoSpans(source, range.start, range.end, leafBudget),
      settings.overlapTokens,
      sectionStarts,
    );

  const chunks: PlannedChunk[] = [];
  const add = (span: Span, role: PlannedChunk["role"], parentOrdinal: number | null) => {
    const content = doc.text.slice(span.start, span.end);
    chunks.push({
      ordinal: chunks.length,
      role,
      parentOrdinal,
      content,
      startOffset: span.start,
      endOffset: span.end,
      page: pageAt(doc.pages, span.start),
      tokenCount: estimateTokens(content),
    });
  };

  const whole = { start: 0, end: doc.text.length };
  if (settings.parentTokens === null) {
    for (const leaf of leavesOf(whole)) add(leaf, "leaf", null);
    return chunks;
  }
  for (const parent of splitIntoSpans(source, whole.start, whole.end, settings.parentTokens)) {
    const parentOrdinal = chunks.length;
    add(parent, "parent", null);
    for (const leaf of leavesOf(parent)) add(leaf, "leaf", parentOrdinal);
  }
  return chunks;
}

/**
 * Moves each span's start back into the leaf before it (as emitted, its own overlap
 * included) by up to `overlapTokens`, then forward to the next word start. The leaf before
 * keeps at least its first word: a leaf never swallows its predecessor whole.
 */
function withOverlap(
  source: SplitSource,
  spans: Span[],
  overlapTokens: number,
  sectionStarts: Set<number>,
): Span[] {
  if (overlapTokens === 0) return spans;
  const leaves: Span[] = [];
  for (const span of spans) {
    const previous = leaves[leaves.length - 1];
    if (previous === undefined || sectionStarts.has(span.start)) {
      leaves.push(span);
      continue;
    }
    const target = (source.tokens[span.start] ?? 0) - overlapTokens;
    const from = firstReaching(source.tokens, previous.start, span.start, target);
    leaves.push({ start: nextWordStart(source.text, from, span.start), end: span.end });
  }
  return leaves;
}

/** The first position in `[from, limit]` that starts a word (`limit` when none does). */
function nextWordStart(text: string, from: number, limit: number): number {
  let at = from;
  while (at < limit && !isWhitespace(text.charCodeAt(at - 1))) at += 1;
  while (at < limit && isWhitespace(text.charCodeAt(at))) at += 1;
  return at;
}

/**
 * The page holding `offset`, or null when the document has no pages. The last page starting
 * at or before it: an empty page's span sits where the text before it ends, so it never
 * claims a chunk's first (visible) character.
 */
function pageAt(pages: PageSpan[] | null, offset: number): number | null {
  if (pages === null || pages.length === 0) return null;
  let low = 0;
  let high = pages.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if ((pages[middle] as PageSpan).start <= offset) low = middle;
    else high = middle - 1;
  }
  return (pages[low] as PageSpan).page;
}
