/** The formats the knowledge base can ingest, as stored on a document and sent by uploaders. */
export const SUPPORTED_MIME_TYPES = [
  "text/plain",
  "text/markdown",
  "text/html",
  "application/json",
  "text/csv",
  "application/pdf",
] as const;
export type SupportedMimeType = (typeof SUPPORTED_MIME_TYPES)[number];

/**
 * The bare media type of a `Content-Type` value: parameters dropped, lower-cased, trimmed.
 *
 * @example
 * normaliseMimeType("Text/Plain; charset=utf-8") // "text/plain"
 */
export function normaliseMimeType(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

/**
 * Whether `value` is exactly one of {@link SUPPORTED_MIME_TYPES}. Pass a raw header through
 * {@link normaliseMimeType} first.
 *
 * @example
 * const mime = normaliseMimeType(request.headers.get("content-type") ?? "");
 * if (!isSupportedMimeType(mime)) throw new ApiError("UNSUPPORTED_MEDIA_TYPE");
 */
export function isSupportedMimeType(value: string): value is SupportedMimeType {
  return (SUPPORTED_MIME_TYPES as readonly string[]).includes(value);
}

/** A heading-like start of a section: an offset into `ParsedDocument.text`. */
export type Section = { start: number; level: number; title: string };

/** Where one PDF page's text lies in `ParsedDocument.text` (end exclusive); pages count from 1. */
export type PageSpan = { page: number; start: number; end: number };

/** Text extracted from an original. `text` is what chunks' offsets point into. */
export type ParsedDocument = {
  text: string;
  /** PDF only: where each page's text lies in `text` (0-based offsets, end exclusive), page numbers from 1. */
  pages: PageSpan[] | null;
  /**
   * Heading-like section starts found in the original (markdown #, html h1-h6, pdf none): offsets
   * into text, level 1-6, in document order. Used by the chunker to prefer splitting at section
   * boundaries and to give parents whole sections.
   */
  sections: Section[];
};

/**
 * A document that can never be parsed (corrupt PDF, invalid JSON, binary garbage, empty text):
 * retrying will not help, so the ingestion job marks the document failed instead of retrying.
 */
export class UnparseableDocumentError extends Error {
  override name = "UnparseableDocumentError";
}
