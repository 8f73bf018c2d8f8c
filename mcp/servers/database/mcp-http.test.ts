import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeAll, expect, it } from "vitest";
import { createTenant } from "../../../test/harness/fixtures";
import { describeOnServer } from "../../../test/harness/stack";
import { connectBuiltin } from "../../server/test-client";
import { SAMPLE_COUNTS } from "./sample-data";

const clients: Client[] = [];
let token: string;

// The first tenant of a run pays the Worker's cold start: in a hook, under the hook timeout.
beforeAll(async () => {
  token = (await createTenant()).token;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describeOnServer("database over MCP (POST /v1/mcp/builtin/database)", () => {
  it("lists the four read-only tools and runs each of them (a query, refusals, tables, a table, the schema) through the SDK client", async () => {
    const client = await connectBuiltin("database", token);
    clients.push(client);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["describe_table", "get_schema", "list_tables", "query"]);
    for (const tool of tools) expect(tool.annotations, tool.name).toMatchObject({ readOnlyHint: true });
    expect(tools.find((t) => t.name === "query")?.inputSchema).toMatchObject({
      type: "object",
      required: ["sql"],
    });

    const counted = await call(client, "query", { sql: "select count(*)::int as n from orders" });
    expect(counted.isError).toBeFalsy();
    expect(counted.structuredContent).toMatchObject({
      connection: "sample",
      columns: [{ name: "n", type: "integer" }],
      rows: [[SAMPLE_COUNTS.orders]],
      truncated: false,
    });

    const refused = await call(client, "query", {
      sql: "with d as (delete from orders returning 1) select * from d",
    });
    expect(refused.isError).toBe(true);
    expect(refused.structuredContent).toMatchObject({ reason: "read_only" });
    const stacked = await call(client, "query", { sql: "select 1; drop table orders" });
    expect(stacked.structuredContent).toMatchObject({ reason: "multiple_statements" });

    const schema = await call(client, "get_schema", {});
    expect((schema.structuredContent as { tables: { name: string }[] }).tables.map((t) => t.name)).toEqual([
      "customers",
      "order_items",
      "order_totals",
      "orders",
      "products",
    ]);

    const tables = await call(client, "list_tables", {});
    expect((tables.structuredContent as { tables: { name: string }[] }).tables.map((t) => t.name)).toContain(
      "orders",
    );
    const described = await call(client, "describe_table", { table: "orders" });
    expect(described.isError).toBeFalsy();
    expect(described.structuredContent).toMatchObject({ connection: "sample", name: "orders" });
    expect(
      (described.structuredContent as { columns: { name: string }[] }).columns.map((c) => c.name),
    ).toContain("id");
  });
});
