import type { ResultField } from "./statement";

// Type OIDs are fixed in PostgreSQL's catalog (pg_type.dat), the same on every server.
const BOOL = 16;
const NUMBERS = new Set([21, 23, 26, 700, 701]); // int2, int4, oid, float4, float8
const JSON_TYPES = new Set([114, 3802]); // json, jsonb

/** Names of common types, for a result whose connection was dropped before the catalog could be asked. */
const KNOWN_TYPES: Record<number, string> = {
  16: "boolean",
  17: "bytea",
  18: '"char"',
  19: "name",
  20: "bigint",
  21: "smallint",
  23: "integer",
  25: "text",
  26: "oid",
  114: "json",
  700: "real",
  701: "double precision",
  1042: "character",
  1043: "character varying",
  1082: "date",
  1083: "time without time zone",
  1114: "timestamp without time zone",
  1184: "timestamp with time zone",
  1186: "interval",
  1700: "numeric",
  2950: "uuid",
  3802: "jsonb",
};

/**
 * A value in PostgreSQL's text format as JSON: booleans, and numbers that a double holds exactly
 * (smallint, integer, oid, real, double precision), become JSON booleans and numbers; json and
 * jsonb are parsed. Everything else keeps PostgreSQL's text: bigint and numeric (so no digit is
 * lost), dates and times (no time-zone shift), bytea (`\x...`), arrays (`{1,2}`), and NaN/Infinity.
 *
 * @example
 * decodeValue("t", 16); // true
 * decodeValue("9007199254740993", 20); // "9007199254740993"
 */
export function decodeValue(text: string | null, typeOid: number): unknown {
  if (text === null) return null;
  if (typeOid === BOOL) return text === "t";
  if (NUMBERS.has(typeOid)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  if (JSON_TYPES.has(typeOid)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A type's name without the catalog: common types by OID, the rest as `oid <n>`. */
export function knownTypeName(field: ResultField): string {
  return KNOWN_TYPES[field.dataTypeID] ?? `oid ${field.dataTypeID}`;
}
