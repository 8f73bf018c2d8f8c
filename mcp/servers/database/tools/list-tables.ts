import { z } from "zod";
import { defineTool } from "../../../server/types";
import { RELATION_KINDS, RELATION_TYPE, schemaFilter } from "../catalog";
import { resolveTarget } from "../connection";
import { LIMITS } from "../limits";
import { connectionField, identifierField } from "../schemas";
import { withReadOnlySession } from "../session";

export interface ListedTable {
  schema: string;
  name: string;
  type: string;
  /** PostgreSQL's estimate from the last ANALYZE; null for views and never-analysed tables. */
  estimatedRows: number | null;
  /** Whether the connection's role may SELECT from it. */
  readable: boolean;
  comment: string | null;
}

export const listTables = defineTool({
  name: "list_tables",
  title: "List tables",
  description:
    "Lists the tables and views of the database (all user schemas, or one), with their type, an " +
    `estimated row count and whether they can be read. At most ${LIMITS.maxListedTables}; more says truncated.`,
  input: z.object({
    schema: identifierField("Only this schema, e.g. public").optional(),
    connection: connectionField,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  async run({ schema, connection }, ctx) {
    const target = await resolveTarget(connection, ctx);
    return withReadOnlySession(target, ctx, async (client) => {
      const { rows } = await client.query<ListedTable>(
        `SELECT n.nspname AS schema, c.relname AS name, ${RELATION_TYPE} AS type,
                CASE WHEN c.relkind IN ('r', 'p', 'm') AND c.reltuples >= 0 THEN c.reltuples::float8 END
                  AS "estimatedRows",
                pg_catalog.has_table_privilege(c.oid, 'SELECT') AS readable,
                pg_catalog.obj_description(c.oid, 'pg_class') AS comment
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ${RELATION_KINDS} AND NOT c.relispartition AND ${schemaFilter(1)}
          ORDER BY 1, 2
          LIMIT $2`,
        [schema ?? null, LIMITS.maxListedTables + 1],
      );
      const truncated = rows.length > LIMITS.maxListedTables;
      return {
        connection: target.connection,
        tables: truncated ? rows.slice(0, LIMITS.maxListedTables) : rows,
        truncated,
      };
    });
  },
});
