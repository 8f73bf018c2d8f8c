import { z } from "zod";
import { defineTool, ToolError } from "../../../server/types";
import { primaryKeyColumns, RELATION_KINDS, RELATION_TYPE } from "../catalog";
import { resolveTarget } from "../connection";
import { connectionField, identifierField } from "../schemas";
import { withReadOnlySession } from "../session";

interface Candidate {
  oid: string;
  schema: string;
  name: string;
  type: string;
  visible: boolean;
  comment: string | null;
  primaryKey: string[];
}

export const describeTable = defineTool({
  name: "describe_table",
  title: "Describe a table",
  description:
    "Describes one table or view: its columns (type, nullability, default, identity, comment), primary key, " +
    "indexes and constraints (foreign keys, checks, unique). Without schema, the table on the search path is " +
    "used, or the only table of that name in any schema. Fails with not_found or ambiguous_table.",
  input: z.object({
    table: identifierField("Table or view name, e.g. orders"),
    schema: identifierField("Schema of the table, e.g. public").optional(),
    connection: connectionField,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  async run({ table, schema, connection }, ctx) {
    const target = await resolveTarget(connection, ctx);
    return withReadOnlySession(target, ctx, async (client) => {
      const { rows: candidates } = await client.query<Candidate>(
        `SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name, ${RELATION_TYPE} AS type,
                pg_catalog.pg_table_is_visible(c.oid) AS visible,
                pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
                ${primaryKeyColumns("c.oid")} AS "primaryKey"
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relname = $1 AND c.relkind IN ${RELATION_KINDS}
            AND CASE WHEN $2::text IS NULL
                     THEN n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
                       OR pg_catalog.pg_table_is_visible(c.oid)
                     ELSE n.nspname = $2::text END
          ORDER BY pg_catalog.pg_table_is_visible(c.oid) DESC, n.nspname
          LIMIT 20`,
        [table, schema ?? null],
      );
      const found = pick(candidates, table, schema);
      const { rows: columns } = await client.query(
        `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
                NOT a.attnotnull AS nullable,
                CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS "default",
                CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
                CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS generated,
                pg_catalog.col_description(a.attrelid, a.attnum) AS comment
           FROM pg_catalog.pg_attribute a
           LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
        [found.oid],
      );
      const { rows: indexes } = await client.query(
        `SELECT ic.relname AS name, i.indisunique AS "unique", i.indisprimary AS "primary",
                ARRAY(SELECT a.attname::text
                        FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                        JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                       ORDER BY k.n) AS columns,
                pg_catalog.pg_get_indexdef(i.indexrelid) AS definition
           FROM pg_catalog.pg_index i
           JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = $1::oid
          ORDER BY i.indisprimary DESC, ic.relname`,
        [found.oid],
      );
      const { rows: constraints } = await client.query(
        `SELECT conname AS name,
                CASE contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique'
                             WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' ELSE contype::text END AS type,
                pg_catalog.pg_get_constraintdef(oid) AS definition
           FROM pg_catalog.pg_constraint
          WHERE conrelid = $1::oid
          ORDER BY contype, conname`,
        [found.oid],
      );
      return {
        connection: target.connection,
        schema: found.schema,
        name: found.name,
        type: found.type,
        comment: found.comment,
        columns,
        primaryKey: found.primaryKey,
        indexes,
        constraints,
      };
    });
  },
});

/**
 * The table meant: the one named in `schema`, else the one visible on the search path, else
 * the only one of that name.
 *
 * @throws {ToolError} `not_found`, or `ambiguous_table` naming the schemas to choose from.
 */
function pick(candidates: Candidate[], table: string, schema: string | undefined): Candidate {
  const where = schema === undefined ? "" : ` in schema ${schema}`;
  const [first] = candidates;
  if (!first) {
    throw new ToolError(
      `No table or view named ${table}${where}; list_tables shows what exists.`,
      "not_found",
    );
  }
  if (schema !== undefined || first.visible || candidates.length === 1) return first;
  throw new ToolError(
    `Several tables are named ${table}: in schemas ${candidates.map((c) => c.schema).join(", ")}. Name the schema.`,
    "ambiguous_table",
  );
}
