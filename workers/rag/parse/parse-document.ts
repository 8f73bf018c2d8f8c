import { parseCsv } from "./csv";
import { parseHtml } from "./html";
import { parseJson } from "./json";
import { parseMarkdown } from "./markdown";
import { parsePdf } from "./pdf";
import { parseText } from "./text";
import { type ParsedDocument, type SupportedMimeType, UnparseableDocumentError } from "./types";

/**
 * Extracts the text of an uploaded original, with the structure the chunker uses (sections,
 * PDF pages). A document whose text is empty once extracted (blank file, scanned PDF without
 * a text layer, HTML that is all script) is unparseable: there is nothing to embed.
 *
 * @throws UnparseableDocumentError when the bytes can never be parsed as `mimeType`; any other
 *   error is unexpected and worth a retry.
 * @example
 * const doc = await parseDocument(bytes, "text/markdown");
 * const chunks = chunkDocument(doc, DEFAULT_CHUNKING);
 */
export async function parseDocument(bytes: Uint8Array, mimeType: SupportedMimeType): Promise<ParsedDocument> {
  const doc = await parseAs(bytes, mimeType);
  if (!/\S/.test(doc.text)) throw new UnparseableDocumentError("document has no text");
  return doc;
}

async function parseAs(bytes: Uint8Array, mimeType: SupportedMimeType): Promise<ParsedDocument> {
  switch (mimeType) {
    case "text/plain":
      return parseText(bytes);
    case "text/markdown":
      return parseMarkdown(bytes);
    case "text/html":
      return parseHtml(bytes);
    case "application/json":
      return parseJson(bytes);
    case "text/csv":
      return parseCsv(bytes);
    case "application/pdf":
      return await parsePdf(bytes);
  }
}
