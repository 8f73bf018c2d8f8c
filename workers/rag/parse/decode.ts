import { UnparseableDocumentError } from "./types";

/**
 * Decodes an uploaded text file: strict UTF-8 (a byte-order mark is dropped), line ends
 * normalised to `\n`. Text formats never contain NUL, so one is taken as a binary file sent
 * under a text type: decoding it would only feed garbage to the embedder.
 *
 * @throws UnparseableDocumentError when the bytes are not UTF-8 or look binary.
 * @example
 * decodeText(new TextEncoder().encode("a\r\nb")) // "a\nb"
 */
export function decodeText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UnparseableDocumentError("document is not valid UTF-8");
  }
  if (text.includes("\u0000")) throw new UnparseableDocumentError("document looks binary (contains NUL)");
  return text.replace(/\r\n?/g, "\n");
}
