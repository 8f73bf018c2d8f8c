import { z } from "zod";
import { defineTool } from "../../../server/types";
import { primaryKeyColumns, RELATION_KINDS, RELATION_TYPE, schemaFilter } from "../catalog";
import { resolveTarget } from "../connection";
import { LIMITS } from "../limits";
import { connectionField, identifierField } from "../schemas";
import { withReadOnlySession } from "../session";

export interface SchemaTable {
  schema: string;
  name: string;
  type: string;
  columns: { name: string; type: string; nullable: boolean }[];
  primaryKey: string[];
  /** Definitions such as `FOREIGN KEY (customer_id) REFERENCES customers(id)`. */
  foreignKeys: string[];
}

const encoder = new TextEncoder();

export const getSchema = defineTool({
  name: "get_schema",
  title: "Get the database schema",
  description:
    "Returns every table and view of the database (all user schemas, or one) with its columns (name, type, " +
    `nullability), primary key and foreign keys: one call to learn the whole schema. At most ${LIMITS.maxSchemaTables} ` +
    "tables and about 1 MiB; beyond that it says truncated (then use list_tables and describe_table).",
  input: z.object({
    schema: identifierField("Only this schema, e.g. public").optional(),
    connection: connectionField,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  async run({ schema, connection }, ctx) {
    const target = await resolveTarget(connection, ctx);
    return withReadOnlySession(target, ctx, async (client) => {
      const { rows } = await client.query<SchemaTable>(
        `SELECT n.nspname AS schema, c.relname AS name, ${RELATION_TYPE} AS type,
                COALESCE((SELECT json_agg(json_build_object(
                                  'name', a.attname,
                                  'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                                  'nullable', NOT a.attnotnull) ORDER BY a.attnum)
                            FROM pg_catalog.pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS columns,
                ${primaryKeyColumns("c.oid")} AS "primaryKey",
                ARRAY(SELECT pg_catalog.pg_get_constraintdef(k.oid)
                        FROM pg_catalog.pg_constraint k
                       WHERE k.conrelid = c.oid AND k.contype = 'f'
                       ORDER BY k.conname) AS "foreignKeys"
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ${RELATION_KINDS} AND NOT c.relispartition AND ${schemaFilter(1)}
          ORDER BY 1, 2
          LIMIT $2`,
        [schema ?? null, LIMITS.maxSchemaTables + 1],
      );
      let truncated = rows.length > LIMITS.maxSchemaTables;
      const tables: SchemaTable[] = [];
      let bytes = 0;
      for (const table of rows.slice(0, LIMITS.maxSchemaTables)) {
        bytes += encoder.encode(JSON.stringify(table)).byteLength + 1;
        if (bytes > LIMITS.maxBytes) {
          truncated = true;
          break;
        }
        tables.push(table);
      }
      return { connection: target.connection, tables, truncated };
    });
  },
});
