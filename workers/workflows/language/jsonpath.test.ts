import { describe, expect, it, test } from "vitest";
import { ExpressionError } from "./errors";
import { compileJsonPath, MAX_JSONPATH_MATCHES, queryJsonPath } from "./jsonpath";

const store = {
  book: [
    { category: "reference", author: "Rees", title: "Sayings", price: 8.95 },
    { category: "fiction", author: "Waugh", title: "Sword", price: 12.99 },
    { category: "fiction", author: "Melville", title: "Moby Dick", isbn: "0-553", price: 8.99 },
    { category: "fiction", author: "Tolkien", title: "Rings", isbn: "0-395", price: 22.99, tags: null },
  ],
  bicycle: { color: "red", price: 19.95 },
  "odd key": { "a.b": 1, "it's": 2 },
};
const doc = { store, list: [0, 1, 2, 3, 4, 5], empty: [], zero: 0, nil: null };

describe("queryJsonPath", () => {
  test.each<[string, unknown[]]>([
    ["$", [doc]],
    ["$.zero", [0]],
    ["$.nil", [null]],
    ["$.missing", []],
    ["$.store.bicycle.color", ["red"]],
    ["$['store']['bicycle']['color']", ["red"]],
    ['$["store"].bicycle["color"]', ["red"]],
    ["$.store['odd key']['a.b']", [1]],
    ["$.store['odd key']['it\\'s']", [2]],
    ["$.store.book[0].author", ["Rees"]],
    ["$.store.book[-1].author", ["Tolkien"]],
    ["$.store.book[4]", []],
    ["$.store.book[-5]", []],
    ["$.store.book[*].author", ["Rees", "Waugh", "Melville", "Tolkien"]],
    ["$.store.bicycle.*", ["red", 19.95]],
    ["$.store.bicycle[*]", ["red", 19.95]],
    ["$.list[1:3]", [1, 2]],
    ["$.list[:2]", [0, 1]],
    ["$.list[4:]", [4, 5]],
    ["$.list[-2:]", [4, 5]],
    ["$.list[:-4]", [0, 1]],
    ["$.list[::2]", [0, 2, 4]],
    ["$.list[::-1]", [5, 4, 3, 2, 1, 0]],
    ["$.list[4:1:-2]", [4, 2]],
    ["$.list[1:100]", [1, 2, 3, 4, 5]],
    ["$.list[3:1]", []],
    ["$.list[::0]", []],
    ["$.list[ 1 : 3 ]", [1, 2]],
    ["$.list[0,2,-1]", [0, 2, 5]],
    ["$.list[0, 0]", [0, 0]],
    ["$.store.bicycle['color','price','nope']", ["red", 19.95]],
    ["$.store.book[0,1].title", ["Sayings", "Sword"]],
    ["$..author", ["Rees", "Waugh", "Melville", "Tolkien"]],
    ["$.store..price", [8.95, 12.99, 8.99, 22.99, 19.95]],
    ["$..book[2].title", ["Moby Dick"]],
    ["$..book[-1:].title", ["Rings"]],
    ["$..['color']", ["red"]],
    ["$.store.book[?(@.isbn)].title", ["Moby Dick", "Rings"]],
    ["$.store.book[?(@.tags)].title", ["Rings"]],
    ["$.store.book[?(@.price < 10)].title", ["Sayings", "Moby Dick"]],
    ["$.store.book[?(@.price <= 8.99)].title", ["Sayings", "Moby Dick"]],
    ["$.store.book[?(@.price > 20)].title", ["Rings"]],
    ["$.store.book[?(@.price >= 22.99)].title", ["Rings"]],
    ["$.store.book[?(@.category == 'fiction')].author", ["Waugh", "Melville", "Tolkien"]],
    ['$.store.book[?(@.category == "reference")].author', ["Rees"]],
    ["$.store.book[?(@.category != 'fiction')].author", ["Rees"]],
    ["$.store.book[?(@.isbn != '0-553')].title", ["Sayings", "Sword", "Rings"]],
    ["$.store.book[?(@.tags == null)].title", ["Rings"]],
    ["$.store.book[?(@.author > 'R')].author", ["Rees", "Waugh", "Tolkien"]],
    ["$.store.book[?(@.price > '1')].title", []],
    ["$.store.book[?@.isbn].title", ["Moby Dick", "Rings"]],
    ["$.store.book[?( @.price<9 )].price", [8.95, 8.99]],
    ["$.store[?(@.color == 'red')].price", [19.95]],
    ["$.list[?(@ > 3)]", [4, 5]],
    ["$.list[?(@ == 1e0)]", [1]],
    ["$.list[?(@ == -1)]", []],
    // Document order: the bicycle is a child of store, visited before the books' array.
    ["$..[?(@.price > 19)].price", [19.95, 22.99]],
    ["$.empty[*]", []],
    ["$.zero[*]", []],
    ["$.zero.x", []],
    ["$.list.length", []],
    ["$.store.constructor", []],
  ])("%s", (path, expected) => {
    expect(queryJsonPath(path, doc)).toEqual(expected);
  });

  it("filters on booleans and nested paths", () => {
    const data = { items: [{ a: { b: true } }, { a: { b: false } }, { a: { b: "true" } }, { a: {} }] };
    expect(queryJsonPath("$.items[?(@.a.b == true)]", data)).toEqual([{ a: { b: true } }]);
    expect(queryJsonPath("$.items[?(@.a.b == false)]", data)).toEqual([{ a: { b: false } }]);
    expect(queryJsonPath("$.items[?(@.a['b'])]", data)).toHaveLength(3);
    expect(queryJsonPath("$.items[?(@.a.b != true)]", data)).toHaveLength(3);
  });

  it("compares objects in filters by deep equality only through ==", () => {
    const data = { items: [{ tags: [1] }, { tags: 1 }] };
    expect(queryJsonPath("$.items[?(@.tags == 1)]", data)).toEqual([{ tags: 1 }]);
    expect(queryJsonPath("$.items[?(@.tags > 0)]", data)).toEqual([{ tags: 1 }]);
  });

  it("matches nothing on undefined roots and values", () => {
    expect(queryJsonPath("$", undefined)).toEqual([]);
    expect(queryJsonPath("$.a", { a: undefined })).toEqual([]);
    expect(queryJsonPath("$[*]", [1, undefined, 2])).toEqual([1, 2]);
  });

  it("accepts a compiled path", () => {
    const compiled = compileJsonPath("$.list[0]");
    expect(queryJsonPath(compiled, doc)).toEqual([0]);
    expect(queryJsonPath(compiled, { list: ["x"] })).toEqual(["x"]);
  });

  it("handles a document nested deeper than the stack would allow", () => {
    let deep: unknown = { leaf: 1 };
    for (let i = 0; i < 20_000; i++) deep = { child: deep };
    expect(queryJsonPath("$..leaf", deep)).toEqual([1]);
  });
});

describe("bounds", () => {
  it("fails a query with more than the maximum number of matches", () => {
    const big = { items: Array.from({ length: MAX_JSONPATH_MATCHES + 1 }, (_, i) => i) };
    expect(() => queryJsonPath("$.items[*]", big)).toThrow(/selects more than 10000 values/);
    expect(queryJsonPath("$.items[0:10000]", big)).toHaveLength(MAX_JSONPATH_MATCHES);
  });

  it("fails a recursive descent that would visit too many values", () => {
    const wide = { a: Array.from({ length: 2000 }, () => ({ b: [1, 2, 3] })) };
    const started = Date.now();
    expect(() => queryJsonPath("$..*..*..*", wide)).toThrow(ExpressionError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("stops on a cyclic object instead of looping", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => queryJsonPath("$..a", cyclic)).toThrow(/visits too many values/);
  });
});

describe("compileJsonPath", () => {
  test.each([
    ["$", true],
    ["$.a.b", true],
    ["$['a'][0][-1]", true],
    ["$.a[*]", false],
    ["$.a.*", false],
    ["$..a", false],
    ["$.a[0:1]", false],
    ["$.a[0,1]", false],
    ["$.a['x','y']", false],
    ["$.a[?(@.b)]", false],
  ])("%s is definite: %s", (path, definite) => {
    expect(compileJsonPath(path).definite).toBe(definite);
  });

  it("keeps the source", () => {
    expect(compileJsonPath("$.a").source).toBe("$.a");
  });

  test.each([
    ["", /expected "\$" at the start/],
    ["a.b", /expected "\$"/],
    ["$.", /expected a name or '\*'/],
    ["$..", /expected a name or '\*'/],
    ["$a", /expected '.', '..' or '\['/],
    ["$.a[", /expected a name, an index/],
    ["$.a[0", /expected "\]"/],
    ["$.a[0 1]", /expected "\]"/],
    ["$.a['x]", /unterminated string/],
    ["$.a['\\q']", /unknown escape/],
    ["$.a['\\u12']", /four hex digits/],
    ["$.a[1.5]", /expected "\]"/],
    ["$.a[99999999999999999999]", /too large/],
    ["$.a[?(@.b ==)]", /expected a number, a quoted string/],
    ["$.a[?(@.b == x)]", /expected a number/],
    ["$.a[?(@.b = 1)]", /expected "\)"/],
    ["$.a[?(@.b == 1]", /expected "\)"/],
    ["$.a[?(b == 1)]", /expected "@"/],
    ["$.a[?(@.b[*] == 1)]", /only names and indexes/],
    ["$.a[?(@.b == 1 && @.c == 2)]", /expected "\)"/],
    ["$.a[?(@.b == 1)", /expected "\]"/],
    ["$.a]", /expected '.', '..' or '\['/],
    ["$.a.0", /expected a name or '\*'/],
  ])("rejects %s", (path, message) => {
    expect(() => compileJsonPath(path)).toThrow(ExpressionError);
    expect(() => compileJsonPath(path)).toThrow(message);
  });

  it("rejects a path longer than 4096 characters", () => {
    expect(() => compileJsonPath(`$.${"a".repeat(5000)}`)).toThrow(/longer than 4096 characters/);
  });

  it("names the path in its errors", () => {
    expect(() => compileJsonPath("$.a[")).toThrow('JSONPath "$.a[": expected a name, an index');
  });

  it("allows surrounding spaces and step ids with dashes", () => {
    expect(
      queryJsonPath("  $.steps.fetch-users.output  ", { steps: { "fetch-users": { output: 1 } } }),
    ).toEqual([1]);
  });
});
