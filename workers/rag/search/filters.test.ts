import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it, test } from "vitest";
import { filterSql, searchFilter } from "./filters";

const dialect = new PgDialect();

function render(filter: Parameters<typeof filterSql>[0]) {
  const where = filterSql(filter);
  return where ? dialect.sqlToQuery(where) : undefined;
}

describe("searchFilter", () => {
  test.each([
    ["scalars", { metadata: { lang: "en", year: 2024, draft: false } }],
    ["in", { metadata: { product: { in: ["a", 1, true] } } }],
    ["exists", { metadata: { draft: { exists: false } } }],
    ["numeric range", { metadata: { year: { gte: 2020, lt: 2030 } } }],
    ["date range", { metadata: { published: { gt: "2024-01-01", lte: "2024-12-31T23:59:59Z" } } }],
    ["document ids", { documentIds: ["0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d"] }],
  ])("accepts %s", (_, filter) => {
    expect(searchFilter.safeParse(filter).success).toBe(true);
  });

  test.each([
    ["an unknown field", { metadata: {}, tags: ["x"] }],
    ["a nested object value", { metadata: { a: { b: 1 } } }],
    ["null", { metadata: { a: null } }],
    ["an empty range", { metadata: { a: {} } }],
    ["mixed bound types", { metadata: { a: { gte: 1, lte: "2024-01-01" } } }],
    ["a bound that is not a number or ISO date", { metadata: { a: { gte: "soon" } } }],
    ["in and exists together", { metadata: { a: { in: [1], exists: true } } }],
    ["an empty in", { metadata: { a: { in: [] } } }],
    ["an empty key", { metadata: { "": 1 } }],
    ["too many keys", { metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }],
    ["a document id that is not a UUID", { documentIds: ["abc"] }],
    ["no document ids", { documentIds: [] }],
  ])("refuses %s", (_, filter) => {
    expect(searchFilter.safeParse(filter).success).toBe(false);
  });

  it("drops a __proto__ key rather than letting it set the prototype", () => {
    const parsed = searchFilter.parse(JSON.parse('{"metadata":{"__proto__":"x","lang":"en"}}'));
    expect(parsed.metadata).toEqual({ lang: "en" });
    expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype);
  });
});

describe("filterSql", () => {
  it("restricts nothing without conditions", () => {
    expect(render(undefined)).toBeUndefined();
    expect(render({})).toBeUndefined();
    expect(render({ metadata: {} })).toBeUndefined();
  });

  it("merges equalities into one containment the GIN index serves", () => {
    const query = render({ metadata: { lang: "en", year: 2024 } });
    expect(query?.sql).toBe('"chunks"."metadata" @> $1::jsonb');
    expect(query?.params).toEqual(['{"lang":"en","year":2024}']);
  });

  it("makes each in value a containment", () => {
    const query = render({ metadata: { product: { in: ["a", "b"] } } });
    expect(query?.sql).toBe('("chunks"."metadata" @> $1::jsonb or "chunks"."metadata" @> $2::jsonb)');
    expect(query?.params).toEqual(['{"product":"a"}', '{"product":"b"}']);
  });

  it("binds keys and values of every kind of condition, never splicing them", () => {
    const crafted = "') or true --";
    const query = render({
      documentIds: ["0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d"],
      metadata: {
        [crafted]: `x' or '1'='1`,
        [`${crafted}in`]: { in: [crafted] },
        [`${crafted}exists`]: { exists: true },
        [`${crafted}range`]: { gte: 1, lt: "2024-01-01" },
      },
    });
    expect(query?.sql).not.toContain(crafted);
    expect(query?.sql).not.toContain("1'='1");
    expect(query?.params).toContain(`${crafted}exists`);
    expect(query?.params).toContain(`${crafted}range`);
    expect(query?.params).toContain(JSON.stringify({ [crafted]: `x' or '1'='1` }));
  });
});
