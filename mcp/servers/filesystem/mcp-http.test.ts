import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { createTenant } from "../../../test/harness/fixtures";
import { connectBuiltin } from "../../server/test-client";
import { warmUp } from "./test-fixtures";

const clients: Client[] = [];

beforeAll(warmUp);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(token: string): Promise<Client> {
  const client = await connectBuiltin("filesystem", token);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

describe("filesystem over MCP (POST /v1/mcp/builtin/filesystem)", () => {
  test("lists the seven tools and runs each of them through the SDK client", async () => {
    const client = await connect((await createTenant()).token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "create_directory",
      "delete",
      "get_file_info",
      "list_directory",
      "read_file",
      "search_files",
      "write_file",
    ]);
    const write = tools.find((t) => t.name === "write_file");
    expect(write?.inputSchema).toMatchObject({ type: "object", required: ["path", "content"] });
    expect(tools.find((t) => t.name === "read_file")?.annotations).toMatchObject({ readOnlyHint: true });

    const written = await call(client, "write_file", {
      path: "reports/q3.md",
      content: "# Q3",
      createIfMissingParents: true,
    });
    expect(written.isError).toBeFalsy();
    expect(written.structuredContent).toMatchObject({ path: "/reports/q3.md", created: true, sizeBytes: 4 });

    const read = await call(client, "read_file", { path: "/reports/q3.md" });
    expect(read.structuredContent).toMatchObject({ content: "# Q3" });
    const found = await call(client, "search_files", { path: "/", pattern: "*.md" });
    expect(found.structuredContent).toMatchObject({ matches: [{ path: "/reports/q3.md" }] });

    const made = await call(client, "create_directory", { path: "/archive/2026", parents: true });
    expect(made.structuredContent).toMatchObject({ path: "/archive/2026", created: true });
    const listed = await call(client, "list_directory", { path: "/" });
    expect((listed.structuredContent as { entries: { name: string; kind: string }[] }).entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "archive", kind: "directory" }),
        expect.objectContaining({ name: "reports", kind: "directory" }),
      ]),
    );
    const info = await call(client, "get_file_info", { path: "/reports/q3.md" });
    expect(info.structuredContent).toMatchObject({
      path: "/reports/q3.md",
      name: "q3.md",
      kind: "file",
      sizeBytes: 4,
    });
    const deleted = await call(client, "delete", { path: "/reports", recursive: true });
    expect(deleted.structuredContent).toMatchObject({
      path: "/reports",
      kind: "directory",
      deletedEntries: 2,
    });
    expect((await call(client, "read_file", { path: "/reports/q3.md" })).structuredContent).toMatchObject({
      reason: "not_found",
    });
  });

  test("refusals are error results with their reason; another tenant sees nothing", async () => {
    const a = await connect((await createTenant()).token);
    const b = await connect((await createTenant()).token);
    await call(a, "write_file", { path: "/secret.md", content: "A" });

    const traversal = await call(a, "read_file", { path: "../../etc/passwd" });
    expect(traversal.isError).toBe(true);
    expect(traversal.structuredContent).toMatchObject({ reason: "path_outside_root" });
    const unknownArgument = await call(a, "delete", { path: "/secret.md", recurse: true });
    expect(unknownArgument.structuredContent).toMatchObject({ reason: "invalid_input" });

    const fromB = await call(b, "read_file", { path: "/secret.md" });
    expect(fromB.isError).toBe(true);
    expect(fromB.structuredContent).toMatchObject({ reason: "not_found" });
    expect((await call(b, "list_directory", { path: "/" })).structuredContent).toMatchObject({ entries: [] });
    expect((await call(a, "read_file", { path: "/secret.md" })).structuredContent).toMatchObject({
      content: "A",
    });
  });
});
