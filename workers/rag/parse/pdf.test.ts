import { describe, expect, test } from "vitest";
import { minimalPdf } from "../../../test/fixtures/rag/minimal-pdf";
import { joinPages, parsePdf } from "./pdf";
import { UnparseableDocumentError } from "./types";

describe("parsePdf", () => {
  test("extracts each page's text and where it lies", async () => {
    const doc = await parsePdf(
      minimalPdf([
        ["Page one, first line.", "Page one (second) line."],
        ["Page two stands alone."],
        ["Page three: a", "b", "c"],
      ]),
    );
    expect(doc.text).toBe(
      "Page one, first line.\nPage one (second) line.\n\nPage two stands alone.\n\nPage three: a\nb\nc",
    );
    expect(doc.pages).toEqual([
      { page: 1, start: 0, end: 45 },
      { page: 2, start: 47, end: 69 },
      { page: 3, start: 71, end: 88 },
    ]);
    const pageTexts = (doc.pages ?? []).map(({ start, end }) => doc.text.slice(start, end));
    expect(pageTexts).toEqual([
      "Page one, first line.\nPage one (second) line.",
      "Page two stands alone.",
      "Page three: a\nb\nc",
    ]);
    expect(doc.sections).toEqual([]);
  });

  test("an empty page gets an empty span and no blank line", async () => {
    const doc = await parsePdf(minimalPdf(["First.", [], "Third."]));
    expect(doc.text).toBe("First.\n\nThird.");
    expect(doc.pages).toEqual([
      { page: 1, start: 0, end: 6 },
      { page: 2, start: 6, end: 6 },
      { page: 3, start: 8, end: 14 },
    ]);
  });

  test("leaves the caller's bytes intact", async () => {
    const bytes = minimalPdf([["Keep me."]]);
    const copy = bytes.slice();
    await parsePdf(bytes);
    expect(bytes.byteLength).toBe(copy.byteLength);
    expect(bytes).toEqual(copy);
  });

  test.each([
    ["random bytes", () => Uint8Array.from({ length: 512 }, (_, i) => (i * 7919) % 251)],
    ["text that is not a PDF", () => new TextEncoder().encode("hello, I am not a PDF")],
    ["an empty file", () => new Uint8Array(0)],
    ["a PDF header and nothing else", () => new TextEncoder().encode("%PDF-1.7\n%%EOF\n")],
  ])("rejects %s as unparseable", async (_label, bytes) => {
    await expect(parsePdf(bytes())).rejects.toBeInstanceOf(UnparseableDocumentError);
  });
});

describe("joinPages", () => {
  test("joins with a blank line, leading and trailing empty pages included", () => {
    expect(joinPages(["", "one", "two", ""])).toEqual({
      text: "one\n\ntwo",
      pages: [
        { page: 1, start: 0, end: 0 },
        { page: 2, start: 0, end: 3 },
        { page: 3, start: 5, end: 8 },
        { page: 4, start: 8, end: 8 },
      ],
      sections: [],
    });
  });
});
