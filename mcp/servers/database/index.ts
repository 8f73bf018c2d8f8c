import type { BuiltinMcpServer } from "../../server/types";
import { describeTable } from "./tools/describe-table";
import { getSchema } from "./tools/get-schema";
import { listTables } from "./tools/list-tables";
import { query } from "./tools/query";

/**
 * The built-in database server: read-only SQL and schema discovery on PostgreSQL, either the
 * shared sample database (`SAMPLE_DATABASE_URL`) or a tenant's own database named by a tenant
 * secret. Configuration, which URLs work, the read-only layers and the limits are described in
 * docs/mcp-database.md.
 */
export const databaseServer: BuiltinMcpServer = {
  name: "database",
  title: "Database",
  description:
    "Read-only access to a PostgreSQL database: list tables, describe a table, get the whole schema and run " +
    "one read-only SQL statement per call. Without a connection it uses a shared sample shop database; with " +
    "connection = the name of a tenant secret holding a postgres:// URL, the tenant's own database.",
  version: "1.0.0",
  tools: [query, listTables, describeTable, getSchema],
};
