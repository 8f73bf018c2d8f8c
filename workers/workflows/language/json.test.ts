import { describe, expect, test } from "vitest";
import { childAt, describeKind, jsonEqual } from "./json";

describe("jsonEqual", () => {
  test.each<[unknown, unknown, boolean]>([
    [1, 1, true],
    [1, "1", false],
    [0, -0, true],
    [null, null, true],
    [null, undefined, false],
    [null, 0, false],
    ["a", "a", true],
    [true, 1, false],
    [[], [], true],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[1], [1, 1], false],
    [{}, {}, true],
    [{ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: undefined }, { b: undefined }, false],
    [{ a: 1 }, [1], false],
    [[], {}, false],
    [{ a: { b: 1 } }, { a: { b: 2 } }, false],
  ])("%j vs %j: %s", (a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });

  test("handles deep nesting without recursion", () => {
    const build = (leaf: number) => {
      let value: unknown = leaf;
      for (let i = 0; i < 20_000; i++) value = [value];
      return value;
    };
    expect(jsonEqual(build(1), build(1))).toBe(true);
    expect(jsonEqual(build(1), build(2))).toBe(false);
  });
});

describe("childAt", () => {
  test.each<[unknown, string | number, unknown]>([
    [{ a: 1 }, "a", 1],
    [{ a: 1 }, "b", undefined],
    [{ a: 1 }, "toString", undefined],
    [[1, 2], 0, 1],
    [[1, 2], -1, 2],
    [[1, 2], 2, undefined],
    [[1, 2], "0", undefined],
    [{ 0: "x" }, 0, undefined],
    ["abc", 0, undefined],
    [null, "a", undefined],
  ])("%j at %j", (value, key, expected) => {
    expect(childAt(value, key)).toBe(expected);
  });
});

test("describeKind", () => {
  expect([null, undefined, [], {}, 1, "s", true].map(describeKind)).toEqual([
    "null",
    "undefined",
    "an array",
    "an object",
    "a number",
    "a string",
    "a boolean",
  ]);
});
