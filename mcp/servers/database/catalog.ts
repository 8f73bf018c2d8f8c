/**
 * Catalog SQL shared by list_tables, describe_table and get_schema. Names only ever arrive as
 * parameters ($1, $2): nothing a caller sends is spliced into SQL text.
 */

/** Relation kinds the tools show: tables, partitioned tables, views, materialized views, foreign tables. */
export const RELATION_KINDS = "('r', 'p', 'v', 'm', 'f')";

/** SQL for a relation's kind as a word; `c` is the pg_class alias. */
export const RELATION_TYPE = `CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
  WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END`;

/**
 * SQL matching `n.nspname` (the pg_namespace alias) against parameter `$<param>`: that schema when
 * given, else every schema but PostgreSQL's own (pg_catalog, pg_toast, temporary schemas,
 * information_schema).
 */
export function schemaFilter(param: number): string {
  return `CASE WHEN $${param}::text IS NULL
     THEN n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
     ELSE n.nspname = $${param}::text END`;
}

/** SQL for the primary key's column names of the relation whose oid is `oidExpr`, in key order. */
export function primaryKeyColumns(oidExpr: string): string {
  return `ARRAY(SELECT a.attname::text
    FROM pg_catalog.pg_index i
    CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
   WHERE i.indrelid = ${oidExpr} AND i.indisprimary
   ORDER BY k.n)`;
}
