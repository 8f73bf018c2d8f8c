import { describe, expect, test } from "vitest";
import { isSupportedMimeType, normaliseMimeType, SUPPORTED_MIME_TYPES } from "./types";

describe("normaliseMimeType", () => {
  test.each([
    ["text/plain; charset=utf-8", "text/plain"],
    ["  Text/HTML ; charset=ISO-8859-1", "text/html"],
    ["application/pdf", "application/pdf"],
    ["", ""],
  ])("%j -> %j", (contentType, expected) => {
    expect(normaliseMimeType(contentType)).toBe(expected);
  });
});

describe("isSupportedMimeType", () => {
  test.each(SUPPORTED_MIME_TYPES.map((type) => [type]))("accepts %s", (type) => {
    expect(isSupportedMimeType(type)).toBe(true);
  });

  test.each([
    ["text/plain; charset=utf-8"],
    ["TEXT/PLAIN"],
    ["image/png"],
    ["application/octet-stream"],
    [""],
  ])("rejects %j (normalise first)", (value) => {
    expect(isSupportedMimeType(value)).toBe(false);
  });

  test("accepts a raw header once normalised", () => {
    expect(isSupportedMimeType(normaliseMimeType("Text/Markdown; charset=UTF-8"))).toBe(true);
  });
});
