import { describe, expect, test } from "vitest";
import { parseJson, renderJson } from "./json";
import { UnparseableDocumentError } from "./types";

const parse = (source: string) => parseJson(new TextEncoder().encode(source));

describe("parseJson", () => {
  test("one line per leaf, with dotted keys and indexed arrays, in document order", () => {
    const doc = parse(
      JSON.stringify({
        name: "Meridian",
        owner: { team: "platform", oncall: ["ada", "grace"] },
        items: [
          { name: "x", price: 1.5 },
          { name: "y", tags: [] },
        ],
        active: true,
        retired: null,
      }),
    );
    expect(doc.text).toBe(
      [
        "name: Meridian",
        "owner.team: platform",
        "owner.oncall[0]: ada",
        "owner.oncall[1]: grace",
        "items[0].name: x",
        "items[0].price: 1.5",
        "items[1].name: y",
        "items[1].tags: []",
        "active: true",
        "retired: null",
      ].join("\n"),
    );
  });

  test("each top-level key starts a level-1 section", () => {
    const doc = parse('{"a": 1, "b": {"c": 2, "d": 3}}');
    expect(doc.text).toBe("a: 1\nb.c: 2\nb.d: 3");
    expect(doc.sections).toEqual([
      { start: 0, level: 1, title: "a" },
      { start: 5, level: 1, title: "b" },
    ]);
  });

  test("keys that are not identifiers are quoted in brackets", () => {
    expect(parse('{"two words": {"a.b": 1, "ключ": 2, "": 3}}').text).toBe(
      '["two words"]["a.b"]: 1\n["two words"].ключ: 2\n["two words"][""]: 3',
    );
  });

  test("a root array indexes from the root, and a root scalar is its value", () => {
    expect(parse('[{"id": 1}, "two"]').text).toBe("[0].id: 1\n[1]: two");
    expect(parse('"just a string"').text).toBe("just a string");
    expect(parse("42").text).toBe("42");
  });

  test("an empty root object or array renders as no text", () => {
    expect(parse("{}").text).toBe("");
    expect(parse("[]").text).toBe("");
  });

  test("renders nesting deeper than the call stack would allow", () => {
    let value: unknown = "bottom";
    for (let i = 0; i < 20_000; i++) value = [value];
    const text = renderJson(value).text;
    expect(text.startsWith("[0][0][0]")).toBe(true);
    expect(text.endsWith("[0]: bottom")).toBe(true);
  });

  test.each([
    ["a trailing comma", '{"a": 1,}'],
    ["single quotes", "{'a': 1}"],
    ["truncation", '{"a": [1, 2'],
    ["plain text", "hello"],
  ])("rejects %s", (_label, source) => {
    expect(() => parse(source)).toThrow(UnparseableDocumentError);
    expect(() => parse(source)).toThrow(/not valid JSON/);
  });
});
