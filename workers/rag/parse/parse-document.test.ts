import { describe, expect, test } from "vitest";
import { minimalPdf } from "../../../test/fixtures/rag/minimal-pdf";
import { sampleDocuments } from "../../../test/fixtures/rag/sample-documents";
import { parseDocument } from "./parse-document";
import { type SupportedMimeType, UnparseableDocumentError } from "./types";

const encode = (text: string) => new TextEncoder().encode(text);

describe("parseDocument", () => {
  test.each<[SupportedMimeType, Uint8Array, string]>([
    ["text/plain", encode("Hello\r\nworld"), "Hello\nworld"],
    ["text/markdown", encode("# Hi\n\nthere"), "# Hi\n\nthere"],
    ["text/html", encode("<h1>Hi</h1><p>there</p>"), "Hi\n\nthere"],
    ["application/json", encode('{"hi": "there"}'), "hi: there"],
    ["text/csv", encode("hi\nthere"), "hi: there"],
    ["application/pdf", minimalPdf([["Hi"], ["there"]]), "Hi\n\nthere"],
  ])("dispatches %s to its parser", async (mimeType, bytes, expected) => {
    expect((await parseDocument(bytes, mimeType)).text).toBe(expected);
  });

  test("only PDFs have pages", async () => {
    for (const { mimeType, bytes } of sampleDocuments()) {
      const doc = await parseDocument(bytes, mimeType);
      expect(doc.pages === null, mimeType).toBe(mimeType !== "application/pdf");
      expect(doc.text.length, mimeType).toBeGreaterThan(1000);
    }
  });

  test.each<[string, SupportedMimeType, Uint8Array]>([
    ["an empty text file", "text/plain", new Uint8Array(0)],
    ["a whitespace-only text file", "text/plain", encode(" \n\t\r\n ")],
    ["a markdown file of blank lines", "text/markdown", encode("\n\n\n")],
    ["HTML that is all script and comments", "text/html", encode("<script>x()</script><!-- c --><p> </p>")],
    ["an empty JSON object", "application/json", encode("{ }")],
    ["a CSV with a header only", "text/csv", encode("a,b\n")],
    ["a PDF whose pages have no text", "application/pdf", minimalPdf([[], []])],
  ])("rejects %s: document has no text", async (_label, mimeType, bytes) => {
    const parsing = parseDocument(bytes, mimeType);
    await expect(parsing).rejects.toBeInstanceOf(UnparseableDocumentError);
    await expect(parsing).rejects.toThrow("document has no text");
  });

  test.each<[string, SupportedMimeType, Uint8Array]>([
    ["invalid UTF-8 as text", "text/plain", new Uint8Array([0xff, 0xfe, 0x41])],
    ["invalid UTF-8 as markdown", "text/markdown", new Uint8Array([0x23, 0x20, 0xc3])],
    ["invalid UTF-8 as HTML", "text/html", new Uint8Array([0x3c, 0x70, 0x3e, 0x80])],
    ["invalid JSON", "application/json", encode("{nope}")],
    ["an unterminated CSV quote", "text/csv", encode('a\n"b')],
    ["a corrupt PDF", "application/pdf", encode("%PDF-1.4\ngarbage")],
    [
      "a PNG sent as text",
      "text/plain",
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00]),
    ],
  ])("rejects %s as unparseable", async (_label, mimeType, bytes) => {
    await expect(parseDocument(bytes, mimeType)).rejects.toBeInstanceOf(UnparseableDocumentError);
  });
});
