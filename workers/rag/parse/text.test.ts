import { describe, expect, test } from "vitest";
import { decodeText } from "./decode";
import { parseText } from "./text";
import { UnparseableDocumentError } from "./types";

const encode = (text: string) => new TextEncoder().encode(text);

describe("parseText", () => {
  test("keeps the text and normalises CRLF and lone CR to LF", () => {
    const doc = parseText(encode("one\r\ntwo\rthree\n"));
    expect(doc).toEqual({ text: "one\ntwo\nthree\n", pages: null, sections: [] });
  });

  test("decodes multi-byte UTF-8 and drops a byte-order mark", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encode("naïve 日本 🚀")]);
    expect(parseText(bytes).text).toBe("naïve 日本 🚀");
  });

  test.each([
    ["a lone continuation byte", [0x61, 0x80, 0x62]],
    ["a truncated sequence", [0x61, 0xe6, 0x97]],
    ["an overlong encoding", [0xc0, 0xaf]],
    ["Latin-1 text", [0x63, 0x61, 0x66, 0xe9]],
  ])("rejects invalid UTF-8: %s", (_label, bytes) => {
    expect(() => parseText(new Uint8Array(bytes))).toThrow(UnparseableDocumentError);
    expect(() => parseText(new Uint8Array(bytes))).toThrow("not valid UTF-8");
  });

  test("rejects binary bytes that happen to be valid UTF-8", () => {
    expect(() => decodeText(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]))).toThrow(/binary/);
  });
});
