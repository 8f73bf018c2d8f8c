import { env } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CallToolResult, ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { mcpToolExecutions } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { createTenant } from "../../test/harness/fixtures";
import { parseConfig } from "../../workers/env";
import { newId } from "../../workers/lib/ids";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";
import { serveBuiltinServer } from "./serve";
import { type BuiltinMcpServer, defineTool, type McpToolContext, ToolError } from "./types";

/** Tools whose results take each shape an MCP tool result can have. */
const shapes: BuiltinMcpServer = {
  name: "shapes",
  title: "Shapes",
  description: "Results of every shape.",
  version: "0.0.1",
  tools: [
    defineTool({
      name: "object",
      title: "An object",
      description: "Returns an object.",
      input: z.object({ n: z.number().int() }),
      run: async ({ n }) => ({ doubled: n * 2 }),
    }),
    defineTool({
      name: "array",
      description: "Returns an array.",
      input: z.object({}),
      run: async () => [1, 2],
    }),
    defineTool({
      name: "text",
      description: "Returns a string.",
      input: z.object({}),
      run: async () => "plain",
    }),
    defineTool({
      name: "nothing",
      description: "Returns undefined.",
      input: z.object({}),
      run: async () => undefined,
    }),
    defineTool({
      name: "refuse",
      description: "Fails with a ToolError.",
      input: z.object({}),
      run: async () => {
        throw new ToolError("Not today.", "closed");
      },
    }),
  ],
};

function contextFor(tenantId: string, db: TenantDb, keyId = newId()): McpToolContext {
  return {
    tenantId,
    principal: { kind: "api_key", tenantId, keyId, role: "member" },
    db,
    config: parseConfig(env),
    env,
    signal: new AbortController().signal,
  };
}

/**
 * `serveBuiltinServer` on its own, outside the app's routes: each HTTP request of the SDK client
 * is served in a tenant transaction of the test's own connection, as the route serves it.
 */
async function connect(tenantId: string, server = shapes): Promise<Client> {
  const keyId = newId();
  const client = new Client(
    { name: "t", version: "1" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  const transport = new StreamableHTTPClientTransport(new URL("https://mcp.test/shapes"), {
    fetch: (url, init) =>
      withTenantDb(tenantId, (db) =>
        serveBuiltinServer(server, contextFor(tenantId, db, keyId), new Request(url, init)),
      ),
  });
  await client.connect(transport);
  return client;
}

describe("serveBuiltinServer", () => {
  it("introduces the server and lists its tools with JSON Schemas", async () => {
    const { tenant } = await createTenant();
    const client = await connect(tenant.id);
    expect(client.getServerVersion()).toMatchObject({ name: "shapes", title: "Shapes", version: "0.0.1" });
    expect(client.getInstructions()).toBe("Results of every shape.");
    expect(client.getServerCapabilities()).toMatchObject({ tools: {} });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["object", "array", "text", "nothing", "refuse"]);
    expect(tools[0]).toMatchObject({
      name: "object",
      title: "An object",
      inputSchema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
    });
    await client.close();
  });

  it("answers JSON text for every result, and structured content for objects only", async () => {
    const { tenant } = await createTenant();
    const client = await connect(tenant.id);
    const call = async (name: string, args: Record<string, unknown> = {}) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult;

    expect(await call("object", { n: 21 })).toEqual({
      content: [{ type: "text", text: '{"doubled":42}' }],
      structuredContent: { doubled: 42 },
    });
    expect(await call("array")).toEqual({ content: [{ type: "text", text: "[1,2]" }] });
    expect(await call("text")).toEqual({ content: [{ type: "text", text: '"plain"' }] });
    expect(await call("nothing")).toEqual({ content: [{ type: "text", text: "null" }] });
    const refused = await call("refuse");
    expect(refused).toEqual({
      content: [{ type: "text", text: '{"error":"Not today.","reason":"closed"}' }],
      structuredContent: { error: "Not today.", reason: "closed" },
      isError: true,
    });
    const invalid = await call("object", { n: 1.5 });
    expect(invalid.isError).toBe(true);
    expect(invalid.structuredContent).toMatchObject({ reason: "invalid_input", issues: [{ path: "n" }] });
    await client.close();

    const recorded = await withTenantDb(tenant.id, (db) =>
      db
        .select({ tool: mcpToolExecutions.toolName, status: mcpToolExecutions.status })
        .from(mcpToolExecutions)
        .where(eq(mcpToolExecutions.serverName, "shapes"))
        .orderBy(mcpToolExecutions.id),
    );
    expect(recorded).toEqual([
      { tool: "object", status: "succeeded" },
      { tool: "array", status: "succeeded" },
      { tool: "text", status: "succeeded" },
      { tool: "nothing", status: "succeeded" },
      { tool: "refuse", status: "failed" },
      { tool: "object", status: "failed" },
    ]);
  });

  it("answers an unknown tool with JSON-RPC error -32602 and records nothing", async () => {
    const { tenant } = await createTenant();
    const client = await connect(tenant.id);
    await expect(client.callTool({ name: "missing", arguments: {} })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
    });
    await client.close();
    const rows = await withTenantDb(tenant.id, (db) => db.select().from(mcpToolExecutions));
    expect(rows).toEqual([]);
  });

  it("runs a JSON-RPC batch of calls, each recorded", async () => {
    const { tenant } = await createTenant();
    const keyId = newId();
    const batch = [1, 2, 3].map((n) => ({
      jsonrpc: "2.0",
      id: n,
      method: "tools/call",
      params: { name: "object", arguments: { n } },
    }));
    const res = await withTenantDb(tenant.id, (db) =>
      serveBuiltinServer(
        shapes,
        contextFor(tenant.id, db, keyId),
        new Request("https://mcp.test/shapes", {
          method: "POST",
          headers: {
            accept: "application/json, text/event-stream",
            "content-type": "application/json",
            "mcp-protocol-version": "2025-06-18",
          },
          body: JSON.stringify(batch),
        }),
      ),
    );
    expect(res.status).toBe(200);
    const answers = (await res.json()) as { id: number; result: CallToolResult }[];
    expect(answers.map((a) => [a.id, a.result.structuredContent])).toEqual([
      [1, { doubled: 2 }],
      [2, { doubled: 4 }],
      [3, { doubled: 6 }],
    ]);
    const rows = await withTenantDb(tenant.id, (db) => db.select().from(mcpToolExecutions));
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.createdBy === keyId)).toBe(true);
  });

  it.each(["GET", "DELETE"])(
    "answers %s with 405 and Allow: POST (stateless: no stream, no session)",
    async (method) => {
      const { tenant } = await createTenant();
      const res = await withTenantDb(tenant.id, (db) =>
        serveBuiltinServer(
          shapes,
          contextFor(tenant.id, db),
          new Request("https://mcp.test/shapes", { method, headers: { accept: "text/event-stream" } }),
        ),
      );
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32000 } });
    },
  );
});
