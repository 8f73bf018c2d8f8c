import { beforeAll, describe, expect, it } from "vitest";
import { createTenant } from "../../../test/harness/fixtures";
import { describeOnServer } from "../../../test/harness/stack";
import { LIMITS } from "./limits";
import { SAMPLE_COUNTS, SAMPLE_DATABASE, SAMPLE_READER, sampleRows } from "./sample-data";
import {
  callTool,
  databaseOf,
  expectToolError,
  ownerUrl,
  putConnection,
  sampleUrl,
  testConfig,
  withClient,
  withDatabase,
  withUser,
} from "./test-fixtures";
import { describeTable } from "./tools/describe-table";
import { getSchema } from "./tools/get-schema";
import { listTables } from "./tools/list-tables";
import { type QueryResult, query } from "./tools/query";

const encoder = new TextEncoder();

let tenantId: string;

// The first tenant of a run pays the Worker's cold start: in a hook, under the hook timeout.
beforeAll(async () => {
  tenantId = (await createTenant()).tenant.id;
});

it("answers not_configured when the deployment has no sample database and the call names no connection", async () => {
  for (const tool of [query, listTables, describeTable, getSchema]) {
    const input = tool === query ? { sql: "select 1" } : tool === describeTable ? { table: "orders" } : {};
    await expectToolError(
      callTool(tool, input, tenantId, { config: { SAMPLE_DATABASE_URL: undefined } }),
      "not_configured",
    );
  }
});

describeOnServer("the sample database", () => {
  describe("query", () => {
    it("runs a join over the sample shop and returns typed columns and JSON values", async () => {
      const result = await callTool<QueryResult>(
        query,
        {
          sql: `select c.id, c.name, count(*)::int as lines, max(p.price) as top_price, bool_or(p.active) as any_active
                  from customers c join orders o on o.customer_id = c.id
                  join order_items i on i.order_id = o.id join products p on p.id = i.product_id
                 where c.id = 1 group by c.id, c.name;`,
        },
        tenantId,
      );
      const expected = expectedCustomerOne();
      expect(result).toEqual({
        connection: "sample",
        command: "SELECT 1",
        columns: [
          { name: "id", type: "integer" },
          { name: "name", type: "text" },
          { name: "lines", type: "integer" },
          { name: "top_price", type: "numeric" },
          { name: "any_active", type: "boolean" },
        ],
        rows: [[1, expected.name, expected.lines, expected.topPrice, expected.anyActive]],
        rowCount: 1,
        truncated: false,
      });
    });

    it("holds the deterministic sample: row counts of every table and the view", async () => {
      const data = sampleRows();
      const result = await callTool<QueryResult>(
        query,
        {
          sql: `select (select count(*) from customers)::int, (select count(*) from products)::int,
                       (select count(*) from orders)::int, (select count(*) from order_items)::int,
                       (select count(*) from order_totals)::int`,
        },
        tenantId,
      );
      expect(result.rows).toEqual([
        [
          SAMPLE_COUNTS.customers,
          SAMPLE_COUNTS.products,
          SAMPLE_COUNTS.orders,
          data.order_items.length,
          SAMPLE_COUNTS.orders,
        ],
      ]);
    });

    it("keeps bigint and numeric as strings, parses json, and writes the types PostgreSQL names", async () => {
      const result = await callTool<QueryResult>(
        query,
        {
          sql: `select 9007199254740993::bigint as big, 12.50::numeric(6,2) as money, '{"a":[1]}'::jsonb as doc,
                       null::text as nothing, 'x'::varchar(3) as short, array[1,2] as list`,
        },
        tenantId,
      );
      expect(result.columns.map((c) => c.type)).toEqual([
        "bigint",
        "numeric(6,2)",
        "jsonb",
        "text",
        "character varying(3)",
        "integer[]",
      ]);
      expect(result.rows).toEqual([["9007199254740993", "12.50", { a: [1] }, null, "x", "{1,2}"]]);
    });

    it("runs SHOW, VALUES, TABLE, EXPLAIN and a parenthesised SELECT", async () => {
      for (const sql of [
        "show transaction_read_only",
        "values (1), (2)",
        "table products",
        "explain select * from orders where customer_id = 3",
        "(select 1)",
      ]) {
        const result = await callTool<QueryResult>(query, { sql }, tenantId);
        expect(result.rowCount, sql).toBeGreaterThan(0);
      }
      const show = await callTool<QueryResult>(query, { sql: "show transaction_read_only" }, tenantId);
      expect(show.rows).toEqual([["on"]]);
    });

    it(`cuts a result at ${LIMITS.maxRows} rows (PostgreSQL sends no more) and says so; exactly ${LIMITS.maxRows} is whole`, async () => {
      const big = await callTool<QueryResult>(
        query,
        { sql: "select g from generate_series(1, 1000000) g" },
        tenantId,
      );
      expect(big).toMatchObject({
        rowCount: LIMITS.maxRows,
        truncated: true,
        truncatedBy: "rows",
        command: null,
      });
      expect(big.rows.at(-1)).toEqual([LIMITS.maxRows]);
      expect(big.note).toMatch(/first 1000 rows/);
      const exact = await callTool<QueryResult>(
        query,
        { sql: `select g from generate_series(1, ${LIMITS.maxRows}) g` },
        tenantId,
      );
      expect(exact).toMatchObject({
        rowCount: LIMITS.maxRows,
        truncated: false,
        command: `SELECT ${LIMITS.maxRows}`,
      });
    });

    it("cuts a result at 1 MiB: many wide rows, and one 50 MB value, stop reading early", async () => {
      const wide = await callTool<QueryResult>(
        query,
        { sql: "select g, repeat('x', 100000) as filler from generate_series(1, 200) g" },
        tenantId,
      );
      expect(wide).toMatchObject({ truncated: true, truncatedBy: "bytes" });
      expect(wide.rowCount).toBeGreaterThan(0);
      expect(wide.rowCount).toBeLessThanOrEqual(10);
      expect(wide.columns).toEqual([
        { name: "g", type: "integer" },
        { name: "filler", type: "text" },
      ]);
      expect(encoder.encode(JSON.stringify(wide.rows)).byteLength).toBeLessThanOrEqual(LIMITS.maxBytes);

      const started = Date.now();
      const huge = await callTool<QueryResult>(
        query,
        { sql: "select repeat('y', 50000000) as huge" },
        tenantId,
      );
      expect(huge).toMatchObject({ rows: [], rowCount: 0, truncated: true, truncatedBy: "bytes" });
      expect(Date.now() - started).toBeLessThan(LIMITS.statementTimeoutMs);
    });

    it(`stops a statement after ${LIMITS.statementTimeoutMs / 1000} s, also one that turns its own timeout off`, async () => {
      const started = Date.now();
      await Promise.all([
        expectToolError(
          callTool(query, { sql: "select pg_sleep(60)" }, tenantId),
          "timeout",
          /statement timeout/,
        ),
        expectToolError(
          callTool(
            query,
            { sql: "select set_config('statement_timeout', '0', true), pg_sleep(60)" },
            tenantId,
          ),
          "timeout",
          /statement timeout/,
        ),
      ]);
      expect(Date.now() - started).toBeLessThan(LIMITS.statementTimeoutMs + 4000);
    });

    it("drops the connection when the call is cancelled", async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const started = Date.now();
      await expectToolError(
        callTool(query, { sql: "select pg_sleep(30)" }, tenantId, { signal: controller.signal }),
        "cancelled",
      );
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it("needs its own extended-protocol statement: the driver sends query(sql, []) as a simple Query, running every statement", async () => {
      const viaDriver = await withClient(sampleUrl(), (client) =>
        client.query("select 1 as a; select 2 as b", []),
      );
      expect((viaDriver as unknown as { rows: unknown[] }[]).map((r) => r.rows)).toEqual([
        [{ a: 1 }],
        [{ b: 2 }],
      ]);
      await expectToolError(
        callTool(query, { sql: "select 1 as a; select 2 as b" }, tenantId),
        "multiple_statements",
        /cannot insert multiple commands into a prepared statement/,
      );
    });

    it("reports SQL errors with PostgreSQL's message and position", async () => {
      await expectToolError(
        callTool(query, { sql: "select nope from customers" }, tenantId),
        "sql_error",
        /column "nope" does not exist \(at character 8\)/,
      );
    });

    it("refuses writes on the sample for lack of privilege and of a writable transaction (4 tricks)", async () => {
      const tricks: [string, string][] = [
        ["with d as (delete from orders returning *) select count(*) from d", "read_only"],
        ["select nextval('orders_id_seq')", "permission_denied"],
        ["select * from customers for update", "read_only"],
        ["select 1; delete from order_items", "multiple_statements"],
      ];
      for (const [sql, reason] of tricks) await expectToolError(callTool(query, { sql }, tenantId), reason);
    });

    it("keeps tenants' sessions apart on the shared reader role: no pg_stat_activity, no cancelling or terminating", async () => {
      for (const sql of [
        "select query from pg_stat_activity",
        "select * from pg_stat_get_activity(null)",
        "select pg_cancel_backend(pg_backend_pid())",
        "select pg_terminate_backend(pg_backend_pid())",
      ]) {
        await expectToolError(callTool(query, { sql }, tenantId), "permission_denied", /permission denied/);
      }
    });
  });

  describe("list_tables", () => {
    it("lists the sample's four tables and its view with row estimates", async () => {
      const result = await callTool<{ tables: Record<string, unknown>[]; truncated: boolean }>(
        listTables,
        {},
        tenantId,
      );
      expect(result).toEqual({
        connection: "sample",
        truncated: false,
        tables: [
          table(
            "customers",
            "table",
            SAMPLE_COUNTS.customers,
            "People who have placed at least one order or signed up.",
          ),
          table("order_items", "table", sampleRows().order_items.length),
          table("order_totals", "view", null),
          table("orders", "table", SAMPLE_COUNTS.orders),
          table("products", "table", SAMPLE_COUNTS.products),
        ],
      });
      const none = await callTool<{ tables: unknown[] }>(listTables, { schema: "no_such_schema" }, tenantId);
      expect(none.tables).toEqual([]);
    });
  });

  describe("describe_table", () => {
    it("describes columns, primary key, indexes and constraints of orders", async () => {
      const result = await callTool<Record<string, unknown>>(describeTable, { table: "orders" }, tenantId);
      expect(result).toMatchObject({
        connection: "sample",
        schema: "public",
        name: "orders",
        type: "table",
        primaryKey: ["id"],
        columns: [
          {
            name: "id",
            type: "integer",
            nullable: false,
            default: null,
            identity: "by default",
            generated: null,
          },
          { name: "customer_id", type: "integer", nullable: false, default: null, identity: null },
          { name: "status", type: "text", nullable: false },
          { name: "ordered_at", type: "timestamp with time zone", nullable: false },
        ],
        indexes: [
          { name: "orders_pkey", primary: true, unique: true, columns: ["id"] },
          { name: "orders_customer_id_idx", primary: false, unique: false, columns: ["customer_id"] },
          { name: "orders_ordered_at_idx", primary: false, unique: false, columns: ["ordered_at"] },
        ],
      });
      const constraints = result.constraints as { type: string; definition: string }[];
      expect(constraints.map((c) => c.type).sort()).toEqual(["check", "foreign key", "primary key"]);
      expect(constraints.find((c) => c.type === "foreign key")?.definition).toBe(
        "FOREIGN KEY (customer_id) REFERENCES customers(id)",
      );
    });

    it("describes a composite primary key and a view", async () => {
      const items = await callTool<{ primaryKey: string[] }>(
        describeTable,
        { table: "order_items", schema: "public" },
        tenantId,
      );
      expect(items.primaryKey).toEqual(["order_id", "product_id"]);
      const view = await callTool<{ type: string; columns: { name: string }[]; indexes: unknown[] }>(
        describeTable,
        { table: "order_totals" },
        tenantId,
      );
      expect(view.type).toBe("view");
      expect(view.columns.map((c) => c.name)).toEqual([
        "order_id",
        "customer_id",
        "status",
        "ordered_at",
        "total",
      ]);
      expect(view.indexes).toEqual([]);
    });

    it("fails with not_found for a missing table, and takes a name as data, never as SQL", async () => {
      await expectToolError(callTool(describeTable, { table: "nope" }, tenantId), "not_found");
      await expectToolError(
        callTool(describeTable, { table: "orders", schema: "elsewhere" }, tenantId),
        "not_found",
      );
      await expectToolError(
        callTool(describeTable, { table: "orders'; drop table orders; --" }, tenantId),
        "not_found",
      );
      await expectToolError(callTool(describeTable, { table: "Orders" }, tenantId), "not_found");
    });
  });

  describe("get_schema", () => {
    it("returns every table and view with columns, primary keys and foreign keys", async () => {
      const result = await callTool<{ tables: Record<string, unknown>[]; truncated: boolean }>(
        getSchema,
        {},
        tenantId,
      );
      expect(result.truncated).toBe(false);
      expect(result.tables.map((t) => t.name)).toEqual([
        "customers",
        "order_items",
        "order_totals",
        "orders",
        "products",
      ]);
      expect(result.tables.find((t) => t.name === "order_items")).toEqual({
        schema: "public",
        name: "order_items",
        type: "table",
        columns: [
          { name: "order_id", type: "integer", nullable: false },
          { name: "product_id", type: "integer", nullable: false },
          { name: "quantity", type: "integer", nullable: false },
          { name: "unit_price", type: "numeric(10,2)", nullable: false },
        ],
        primaryKey: ["order_id", "product_id"],
        foreignKeys: [
          "FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE CASCADE",
          "FOREIGN KEY (product_id) REFERENCES products(id)",
        ],
      });
    });
  });

  describe("roles", () => {
    it("the sample reader cannot connect to Meridian's database, let alone read its tables", async () => {
      const meridianDb = databaseOf(ownerUrl());
      await putConnection(tenantId, "READER_ON_MERIDIAN", withDatabase(sampleUrl(), meridianDb));
      await expectToolError(
        callTool(query, { sql: "select count(*) from tenants", connection: "READER_ON_MERIDIAN" }, tenantId),
        "connection_failed",
        /permission denied for database/,
      );
      const privileges = await withClient(ownerUrl(), async (client) => {
        const { rows } = await client.query(
          `select has_database_privilege($1, current_database(), 'CONNECT') as connect,
                  has_database_privilege($1, current_database(), 'TEMPORARY') as temporary,
                  has_schema_privilege($1, 'public', 'USAGE') as usage,
                  has_table_privilege($1, 'tenants', 'SELECT') as tenants,
                  has_table_privilege($1, 'tenant_secrets', 'SELECT') as secrets`,
          [SAMPLE_READER],
        );
        return rows[0];
      });
      expect(privileges).toEqual({
        connect: false,
        temporary: false,
        usage: false,
        tenants: false,
        secrets: false,
      });
    });

    it("Meridian's own roles cannot connect to the sample database", async () => {
      const appUrl = testConfig().DATABASE_URL;
      await putConnection(tenantId, "APP_ON_SAMPLE", withDatabase(appUrl, SAMPLE_DATABASE));
      await putConnection(tenantId, "OWNER_ON_SAMPLE", withDatabase(ownerUrl(), SAMPLE_DATABASE));
      for (const connection of ["APP_ON_SAMPLE", "OWNER_ON_SAMPLE"]) {
        await expectToolError(
          callTool(query, { sql: "select 1", connection }, tenantId),
          "connection_failed",
          /permission denied for database "meridian_sample"/,
        );
      }
    });

    it("a wrong password for the reader fails to connect without echoing the URL", async () => {
      await putConnection(tenantId, "BAD_PASSWORD", withUser(sampleUrl(), SAMPLE_READER, "wrong-password"));
      const error = await callTool(query, { sql: "select 1", connection: "BAD_PASSWORD" }, tenantId).catch(
        (e: unknown) => e as Error,
      );
      // Local PostgreSQL may trust 127.0.0.1; then the call simply works.
      if (error instanceof Error) {
        expect(error).toMatchObject({ name: "ToolError", reason: "connection_failed" });
        expect(error.message).not.toContain("wrong-password");
      }
    });
  });
});

function table(name: string, type: string, rows: number | null, comment: string | null = null) {
  return { schema: "public", name, type, estimatedRows: rows, readable: true, comment };
}

/** Customer 1's name, order lines, most expensive product and whether any is active, from the generator. */
function expectedCustomerOne(): { name: string; lines: number; topPrice: string; anyActive: boolean } {
  const data = sampleRows();
  const orders = data.orders.filter((o) => o[1] === 1).map((o) => o[0]);
  const products = data.order_items
    .filter((i) => orders.includes(i[0] as number))
    .map((i) => data.products[(i[1] as number) - 1] as (string | number | boolean)[]);
  return {
    name: data.customers[0]?.[1] as string,
    lines: products.length,
    topPrice: Math.max(...products.map((p) => Number(p[4]))).toFixed(2),
    anyActive: products.some((p) => p[5] === true),
  };
}
