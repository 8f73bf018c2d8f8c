import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { connectBuiltin } from "../server/test-client";

// One tenant and one MCP connection for the file: every case here is a pure computation.
let client: Client;
let token: string;

beforeAll(async () => {
  token = (await createTenant()).token;
  client = await connectBuiltin("calculator", token);
});

afterAll(async () => {
  await client?.close();
});

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): unknown {
  const first = result.content[0];
  if (first?.type !== "text") throw new Error("expected a text content block");
  return JSON.parse(first.text);
}

describe("calculator over MCP", () => {
  it("lists its five tools with JSON Schemas of their input", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["add", "subtract", "multiply", "divide", "power"]);
    for (const tool of tools) {
      expect(tool.description).toBeTruthy();
      expect(tool.annotations).toMatchObject({ readOnlyHint: true });
      expect(tool.inputSchema).toMatchObject({
        type: "object",
        required: ["a", "b"],
        additionalProperties: false,
        properties: {
          a: { anyOf: [{ type: "number" }, { type: "string", pattern: expect.any(String) }] },
          b: { anyOf: [{ type: "number" }, { type: "string" }] },
        },
      });
    }
  });

  it.each([
    ["add", 0.1, 0.2, { result: 0.3, decimal: "0.3", exact: true }],
    ["add", "0.1", "0.2", { result: 0.3, decimal: "0.3", exact: true }],
    ["add", "1e-999", "1e-999", { result: 0, decimal: "2e-999", exact: true }],
    ["subtract", 0.3, 0.1, { result: 0.2, decimal: "0.2", exact: true }],
    ["subtract", 1, 5, { result: -4, decimal: "-4", exact: true }],
    ["multiply", 0.1, 3, { result: 0.3, decimal: "0.3", exact: true }],
    [
      "multiply",
      123456789,
      987654321,
      { result: Number("121932631112635269"), decimal: "121932631112635269", exact: true },
    ],
    ["divide", 1, 8, { result: 0.125, decimal: "0.125", exact: true }],
    ["divide", 0.3, 0.1, { result: 3, decimal: "3", exact: true }],
    ["divide", 1, 3, { result: 1 / 3, decimal: `0.${"3".repeat(34)}`, exact: false }],
    ["divide", -2, 3, { result: -2 / 3, decimal: `-0.${"6".repeat(33)}7`, exact: false }],
    ["power", 2, 10, { result: 1024, decimal: "1024", exact: true }],
    ["power", 1.1, 2, { result: 1.21, decimal: "1.21", exact: true }],
    ["power", 2, -2, { result: 0.25, decimal: "0.25", exact: true }],
    ["power", -2, 3, { result: -8, decimal: "-8", exact: true }],
    ["power", 0, 0, { result: 1, decimal: "1", exact: true }],
    ["power", 2, 100, { result: 2 ** 100, decimal: "1267650600228229401496703205376", exact: true }],
    ["power", 2, 0.5, { result: Math.SQRT2, decimal: String(Math.SQRT2), exact: false }],
    ["power", 3, -1, { result: 1 / 3, decimal: `0.${"3".repeat(34)}`, exact: false }],
    ["power", 1.5, 1000, { result: 1.5 ** 1000, decimal: String(1.5 ** 1000), exact: false }],
    ["power", "0.1", 30, { result: 1e-30, decimal: "1e-30", exact: true }],
  ])("%s(%j, %j) answers %j", async (name, a, b, expected) => {
    const result = await call(name, { a, b });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual(expected);
    expect(textOf(result)).toEqual(expected);
  });

  it("is exact where binary floating point is not", async () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    const sum = await call("add", { a: 0.1, b: 0.2 });
    expect(sum.structuredContent).toMatchObject({ result: 0.3, decimal: "0.3" });
    // Beyond 2^53 the number is the nearest double; the decimal keeps every digit.
    const big = await call("add", { a: "9007199254740993", b: 0 });
    expect(big.structuredContent).toEqual({
      result: 9007199254740992,
      decimal: "9007199254740993",
      exact: true,
    });
  });

  it.each([
    ["divide", { a: 1, b: 0 }, "division_by_zero"],
    ["divide", { a: 0, b: "0.000" }, "division_by_zero"],
    ["power", { a: 0, b: -1 }, "division_by_zero"],
    ["multiply", { a: 1e300, b: 1e300 }, "overflow"],
    ["add", { a: Number.MAX_VALUE, b: Number.MAX_VALUE }, "overflow"],
    ["power", { a: 10, b: 400 }, "overflow"],
    ["power", { a: 3, b: 1000 }, "overflow"],
    ["add", { a: "Infinity", b: 1 }, "not_finite"],
    ["subtract", { a: 1, b: "-Infinity" }, "not_finite"],
    ["multiply", { a: "NaN", b: 1 }, "not_finite"],
    ["add", { a: "1e999", b: 1 }, "not_finite"],
    ["power", { a: 2, b: 1e7 }, "invalid_exponent"],
    ["power", { a: 1, b: 1e300 }, "invalid_exponent"],
    ["power", { a: -8, b: 1 / 3 }, "invalid_exponent"],
  ])("%s(%j) is an error result with reason %s", async (name, args, reason) => {
    const result = await call(name, args);
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ reason, error: expect.any(String) });
    expect(textOf(result)).toEqual(result.structuredContent);
  });

  it.each([
    ["a word for a number", { a: "ten", b: 1 }, ["a"]],
    ["a missing operand", { a: 1 }, ["b"]],
    ["an unknown argument", { a: 1, b: 2, c: 3 }, ["(root)"]],
    ["a boolean", { a: true, b: 2 }, ["a"]],
  ])("refuses %s with isError and the schema's issues", async (_label, args, paths) => {
    const result = await call("add", args);
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ reason: "invalid_input", error: expect.any(String) });
    const issues = (result.structuredContent as { issues: { path: string; message: string }[] }).issues;
    expect(issues.map((i) => i.path)).toEqual(paths);
  });

  it("refuses a JSON number too large for a double (1e400) as not finite", async () => {
    const res = await api.post<{ result: CallToolResult }>("/v1/mcp/builtin/calculator", {
      token,
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
      raw: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":1e400,"b":1}}}',
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ isError: true, structuredContent: { reason: "not_finite" } });
  });
});
