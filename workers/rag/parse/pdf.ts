import { extractText, getDocumentProxy, getResolvedPDFJS } from "unpdf";
import { type PageSpan, type ParsedDocument, UnparseableDocumentError } from "./types";

/**
 * pdf.js options for Workers: no `eval` (Workers forbid it; pdf.js would otherwise compile
 * PostScript functions and glyph outlines with `new Function`) and no font loading through
 * the DOM. unpdf's default `useSystemFonts: true` stays: with it off, pdf.js asks for a
 * `standardFontDataUrl` to fetch font files from, which text extraction does not need.
 * Warnings about malformed files are silenced (errors only): the outcome is reported through
 * UnparseableDocumentError, not the log. unpdf's serverless build runs pdf.js's worker
 * in-thread, so no worker file is loaded.
 */
const PDFJS_OPTIONS = {
  isEvalSupported: false,
  disableFontFace: true,
  verbosity: 0,
} as const;

/**
 * Parses `application/pdf` with unpdf's serverless pdf.js build: the text of each page,
 * pages joined by a blank line, and where each page lies in the text. Empty pages (scans,
 * images) get an empty span where they would have been.
 *
 * @throws UnparseableDocumentError when pdf.js cannot read the file (corrupt, truncated,
 *   not a PDF, password-protected): the same bytes would fail again.
 * @example
 * const doc = await parsePdf(bytes);
 * doc.text.slice(doc.pages[1].start, doc.pages[1].end) // text of page 2
 */
export async function parsePdf(bytes: Uint8Array): Promise<ParsedDocument> {
  // Loaded outside the try: failing to load pdf.js itself is our fault, not the document's.
  await getResolvedPDFJS();
  let pageTexts: string[];
  try {
    // pdf.js may transfer (detach) the buffer it is given; the caller keeps its own.
    const pdf = await getDocumentProxy(bytes.slice(), PDFJS_OPTIONS);
    try {
      pageTexts = (await extractText(pdf, { mergePages: false })).text;
    } finally {
      await pdf.loadingTask.destroy();
    }
  } catch (error) {
    throw new UnparseableDocumentError(`PDF cannot be read: ${(error as Error).message}`);
  }
  return joinPages(pageTexts.map(tidyPageText));
}

/** Collapses runs of spaces, trims each line and keeps at most one blank line in a row. */
function tidyPageText(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/[^\S\n]+/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * Joins page texts with a blank line, recording each page's span. An empty page gets an empty
 * span at the end of the text before it, so it contains no offset.
 *
 * @example
 * joinPages(["one", "", "three"]).pages
 * // [{ page: 1, start: 0, end: 3 }, { page: 2, start: 3, end: 3 }, { page: 3, start: 5, end: 10 }]
 */
export function joinPages(pageTexts: string[]): ParsedDocument {
  const parts: string[] = [];
  const pages: PageSpan[] = [];
  let length = 0;
  pageTexts.forEach((pageText, i) => {
    if (pageText !== "" && length > 0) {
      parts.push("\n\n");
      length += 2;
    }
    parts.push(pageText);
    pages.push({ page: i + 1, start: length, end: length + pageText.length });
    length += pageText.length;
  });
  return { text: parts.join(""), pages, sections: [] };
}
