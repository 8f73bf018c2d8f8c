import { decodeText } from "./decode";
import type { ParsedDocument, Section } from "./types";

/**
 * Parses `text/markdown`. The markdown is kept as it is: it reads fine to a model, and a
 * citation then quotes the original. Sections come from ATX headings (`#` to `######`) outside
 * fenced code blocks; setext headings (underlined with `===`) are not recognised.
 *
 * @throws UnparseableDocumentError for invalid UTF-8 or binary bytes.
 * @example
 * parseMarkdown(new TextEncoder().encode("# Intro\nHello")).sections // [{ start: 0, level: 1, title: "Intro" }]
 */
export function parseMarkdown(bytes: Uint8Array): ParsedDocument {
  const text = decodeText(bytes);
  return { text, pages: null, sections: markdownSections(text) };
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;

/**
 * ATX headings of `text` (LF line ends), with the offset of the heading line. Follows
 * CommonMark where it matters for section starts: up to three spaces of indent, a space after
 * the hashes, an optional closing run of hashes, and fences closed only by a fence of the same
 * character at least as long.
 *
 * @example
 * markdownSections("```\n# not a heading\n```\n## Real") // [{ start: 23, level: 2, title: "Real" }]
 */
export function markdownSections(text: string): Section[] {
  const sections: Section[] = [];
  let openFence: string | null = null;
  let lineStart = 0;
  while (lineStart <= text.length) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    const fence = FENCE.exec(line);
    if (openFence !== null) {
      if (fence?.[1] && fence[2]?.trim() === "" && closesFence(openFence, fence[1])) openFence = null;
    } else if (fence?.[1] && !(fence[1].startsWith("`") && fence[2]?.includes("`"))) {
      // A backtick fence's info string may not contain a backtick (CommonMark 4.5).
      openFence = fence[1];
    } else {
      const heading = ATX_HEADING.exec(line);
      if (heading?.[1]) {
        sections.push({ start: lineStart, level: heading[1].length, title: (heading[2] ?? "").trim() });
      }
    }
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  return sections;
}

function closesFence(opening: string, candidate: string): boolean {
  return candidate[0] === opening[0] && candidate.length >= opening.length;
}
