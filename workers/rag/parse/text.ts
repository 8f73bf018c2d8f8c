import { decodeText } from "./decode";
import type { ParsedDocument } from "./types";

/**
 * Parses `text/plain`: the decoded text, unchanged apart from line ends.
 *
 * @throws UnparseableDocumentError for invalid UTF-8 or binary bytes.
 * @example
 * parseText(new TextEncoder().encode("Hello\r\n")) // { text: "Hello\n", pages: null, sections: [] }
 */
export function parseText(bytes: Uint8Array): ParsedDocument {
  return { text: decodeText(bytes), pages: null, sections: [] };
}
