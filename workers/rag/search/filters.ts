import { z } from "@hono/zod-openapi";
import { and, inArray, or, type SQL, sql } from "drizzle-orm";
import { chunks } from "../../../db/schema/rag";

export const MAX_FILTER_KEYS = 20;
export const MAX_IN_VALUES = 100;
export const MAX_FILTER_DOCUMENTS = 100;

// zod drops a `__proto__` key from a parsed record (it would set the object's prototype), so
// such a condition never reaches the SQL: a filter cannot use that key.
const metadataKey = z.string().min(1).max(64);

const scalar = z.union([z.string().max(512), z.number(), z.boolean()]);
export type FilterScalar = z.infer<typeof scalar>;

const isoDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const bound = z.union([z.number(), isoDate]);

const inCondition = z
  .object({ in: z.array(scalar).min(1).max(MAX_IN_VALUES) })
  .strict()
  .openapi({ description: "The value equals one of these.", example: { in: ["faq", "manual"] } });

const existsCondition = z
  .object({ exists: z.boolean() })
  .strict()
  .openapi({
    description: "The key is present (any value, null included) or absent.",
    example: { exists: true },
  });

const rangeCondition = z
  .object({ gte: bound.optional(), gt: bound.optional(), lte: bound.optional(), lt: bound.optional() })
  .strict()
  .refine((r) => Object.values(r).some((v) => v !== undefined), "give at least one of gte, gt, lte, lt")
  .refine((r) => {
    const kinds = new Set(
      Object.values(r)
        .filter((v) => v !== undefined)
        .map((v) => typeof v),
    );
    return kinds.size <= 1;
  }, "bounds must all be numbers or all ISO 8601 dates")
  .openapi({
    description:
      "Numbers compare numerically against JSON numbers. ISO 8601 dates compare in text (byte) order " +
      "against JSON strings, which is chronological when the stored values share one format and offset " +
      "(`2026-01-31`, or `2026-01-31T08:00:00Z` throughout). Values of another JSON type never match.",
    example: { gte: 2024, lt: 2026 },
  });
export type RangeCondition = z.infer<typeof rangeCondition>;

const condition = z.union([scalar, inCondition, existsCondition, rangeCondition]);
export type MetadataCondition = z.infer<typeof condition>;

/** Restricts a search to some documents and to chunks whose (document) metadata matches. */
export const searchFilter = z
  .object({
    documentIds: z
      .array(z.string().uuid())
      .min(1)
      .max(MAX_FILTER_DOCUMENTS)
      .optional()
      .openapi({ description: "Only chunks of these documents." }),
    metadata: z
      .record(metadataKey, condition)
      .refine((m) => Object.keys(m).length <= MAX_FILTER_KEYS, `at most ${MAX_FILTER_KEYS} keys`)
      .optional()
      .openapi({
        description:
          "Conditions on top-level keys of the chunk's metadata (its document's), all of which must hold. " +
          "A string, number or boolean means equality; `{ in: [...] }`, `{ exists: bool }` and ranges " +
          "(`gte`, `gt`, `lte`, `lt`) are the alternatives.",
        example: { lang: "en", product: { in: ["billing", "auth"] }, year: { gte: 2024 } },
      }),
  })
  .strict()
  .openapi("RagSearchFilter");
export type SearchFilter = z.infer<typeof searchFilter>;

/**
 * The filter as one SQL condition on `chunks`, or undefined when it restricts nothing. Keys and
 * values are always bound parameters, never spliced into the text. Equalities are merged into
 * one `metadata @> {...}` and each `in` value is its own containment, so the jsonb_path_ops GIN
 * index on `chunks.metadata` can serve them; `exists` and ranges are row filters.
 *
 * @example
 * const where = and(eq(chunks.tenantId, db.tenantId), filterSql({ metadata: { lang: "en" } }));
 */
export function filterSql(filter: SearchFilter | undefined): SQL | undefined {
  if (!filter) return undefined;
  const parts: SQL[] = [];
  if (filter.documentIds) parts.push(inArray(chunks.documentId, filter.documentIds));
  // Null prototype: any key the schema lets through is an own property, serialised as given.
  const equal: Record<string, FilterScalar> = Object.create(null);
  let equalities = 0;
  for (const [key, cond] of Object.entries(filter.metadata ?? {})) {
    if (typeof cond !== "object") {
      equal[key] = cond;
      equalities++;
    } else if ("in" in cond) {
      const anyOf = or(...cond.in.map((value) => contains({ [key]: value })));
      if (anyOf) parts.push(anyOf);
    } else if ("exists" in cond) {
      parts.push(cond.exists ? sql`(${chunks.metadata} ? ${key})` : sql`not (${chunks.metadata} ? ${key})`);
    } else {
      parts.push(...rangeSql(key, cond));
    }
  }
  if (equalities > 0) parts.unshift(contains(equal));
  return parts.length > 0 ? and(...parts) : undefined;
}

function contains(value: Record<string, FilterScalar>): SQL {
  return sql`${chunks.metadata} @> ${JSON.stringify(value)}::jsonb`;
}

const OPERATORS = { gte: ">=", gt: ">", lte: "<=", lt: "<" } as const;

function rangeSql(key: string, range: RangeCondition): SQL[] {
  const out: SQL[] = [];
  for (const name of Object.keys(OPERATORS) as (keyof typeof OPERATORS)[]) {
    const value = range[name];
    if (value === undefined) continue;
    const op = sql.raw(OPERATORS[name]);
    // CASE keeps the cast from ever seeing a value of another JSON type (a string "n/a" would
    // make `::numeric` fail the whole query); such rows compare as null and drop out.
    out.push(
      typeof value === "number"
        ? sql`(case when jsonb_typeof(${chunks.metadata} -> ${key}) = 'number' then (${chunks.metadata} ->> ${key})::numeric end) ${op} ${value}::numeric`
        : sql`(case when jsonb_typeof(${chunks.metadata} -> ${key}) = 'string' then (${chunks.metadata} ->> ${key}) end) collate "C" ${op} ${value}::text`,
    );
  }
  return out;
}
