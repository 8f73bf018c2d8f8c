import { env } from "cloudflare:workers";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { executeBuiltinTool } from "../../../mcp/server/execute";
import { connectBuiltin } from "../../../mcp/server/test-client";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { parseConfig } from "../../env";
import { newId } from "../../lib/ids";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ExecuteMcpToolResponse } from "./execute-mcp-tool";
import type { ListBuiltinMcpServersResponse } from "./list-builtin-mcp-servers";
import type { ListMcpToolExecutionsResponse } from "./list-mcp-tool-executions";
import type { McpToolExecutionDetailResponse } from "./schemas";

const MCP_HEADERS = { accept: "application/json, text/event-stream", "content-type": "application/json" };

async function executions(token: string, query = ""): Promise<ListMcpToolExecutionsResponse> {
  const res = await api.get<ListMcpToolExecutionsResponse>(`/v1/mcp/executions${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe("GET /v1/mcp/builtin", () => {
  it("lists the calculator with its five tools and their input schemas", async () => {
    const { token } = await createTenant();
    const res = await api.get<ListBuiltinMcpServersResponse>("/v1/mcp/builtin", { token });
    expect(res.status).toBe(200);
    const calculator = res.body.data.find((s) => s.name === "calculator");
    expect(calculator).toMatchObject({
      title: "Calculator",
      version: "1.0.0",
      endpoint: "/v1/mcp/builtin/calculator",
    });
    expect(calculator?.tools.map((t) => t.name)).toEqual(["add", "subtract", "multiply", "divide", "power"]);
    expect(calculator?.tools[0]?.inputSchema).toMatchObject({ type: "object", required: ["a", "b"] });
  });

  it("is in the OpenAPI document, which describes the MCP endpoint", async () => {
    const res = await api.get<{ paths: Record<string, Record<string, { description?: string }>> }>(
      "/openapi.json",
    );
    expect(res.body.paths["/v1/mcp/builtin"]?.get?.description).toContain("POST /v1/mcp/builtin/{name}");
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(["/v1/mcp/execute", "/v1/mcp/executions", "/v1/mcp/executions/{id}"]),
    );
  });
});

describe("POST /v1/mcp/builtin/{server}", () => {
  it("records every tool call, succeeded or failed, for GET /v1/mcp/executions", async () => {
    const { token, owner } = await createTenant();
    const client = await connectBuiltin("calculator", token);
    const ok = (await client.callTool({ name: "add", arguments: { a: 0.1, b: 0.2 } })) as CallToolResult;
    expect(ok.structuredContent).toMatchObject({ result: 0.3, decimal: "0.3" });
    await client.callTool({ name: "divide", arguments: { a: 1, b: 0 } });
    await client.callTool({ name: "power", arguments: { a: "x", b: 2 } });
    await client.close();

    const page = await executions(token);
    expect(
      page.data.map((e) => [e.serverName, e.toolName, e.status, e.error?.reason ?? null, e.source]),
    ).toEqual([
      ["calculator", "power", "failed", "invalid_input", "builtin"],
      ["calculator", "divide", "failed", "division_by_zero", "builtin"],
      ["calculator", "add", "succeeded", null, "builtin"],
    ]);
    expect(page.data[2]).toMatchObject({ serverId: null, runId: null, createdBy: owner.id, error: null });
    expect(page.data[2]).not.toHaveProperty("input");

    const detail = await api.get<McpToolExecutionDetailResponse>(`/v1/mcp/executions/${page.data[2]?.id}`, {
      token,
    });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      toolName: "add",
      input: { a: 0.1, b: 0.2 },
      output: { result: 0.3, decimal: "0.3", exact: true },
      inputBytes: 17,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    const failed = await api.get<McpToolExecutionDetailResponse>(`/v1/mcp/executions/${page.data[1]?.id}`, {
      token,
    });
    expect(failed.body).toMatchObject({
      status: "failed",
      error: { message: expect.any(String), reason: "division_by_zero" },
      output: { reason: "division_by_zero" },
    });
  });

  it("answers an unknown server with a 404 problem, and GET or DELETE with 405", async () => {
    const { token } = await createTenant();
    const unknown = await api.post<ProblemBody>("/v1/mcp/builtin/nope", {
      token,
      headers: MCP_HEADERS,
      body: {},
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "NOT_FOUND" });
    expect((await api.get<ProblemBody>("/v1/mcp/builtin/nope", { token })).status).toBe(404);
    for (const method of ["get", "delete"] as const) {
      const res = await api[method]("/v1/mcp/builtin/calculator", {
        token,
        headers: { accept: "text/event-stream" },
      });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    }
  });

  it("answers transport faults as the MCP transport does", async () => {
    const { token } = await createTenant();
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    };
    const noAccept = await api.post("/v1/mcp/builtin/calculator", { token, body: initialize });
    expect(noAccept.status).toBe(406);
    const notJson = await api.post("/v1/mcp/builtin/calculator", { token, headers: MCP_HEADERS, raw: "{" });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 } });
    const ok = await api.post<{ result: { serverInfo: { name: string } } }>("/v1/mcp/builtin/calculator", {
      token,
      headers: MCP_HEADERS,
      body: initialize,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("mcp-session-id")).toBeNull();
    expect(ok.body.result.serverInfo.name).toBe("calculator");
  });

  it("needs a credential, and mcp:execute: a viewer's MCP client is refused", async () => {
    const fixture = await createTenant();
    await expectAuthRequired({ method: "post", path: "/v1/mcp/builtin/calculator", body: {} });
    await expectRoles(
      fixture,
      { method: "post", path: "/v1/mcp/builtin/calculator", body: {} },
      { allowed: ["owner", "admin", "member"], denied: ["viewer"] },
    );
    const viewer = await fixture.keyWithRole("viewer");
    await expect(connectBuiltin("calculator", viewer)).rejects.toThrow(/403/);
    const member = await connectBuiltin("calculator", await fixture.keyWithRole("member"));
    expect((await member.listTools()).tools).toHaveLength(5);
    await member.close();
  });
});

describe("POST /v1/mcp/execute", () => {
  it("runs a built-in tool and answers its outcome with 200, failure included", async () => {
    const { token } = await createTenant();
    const ok = await api.post<ExecuteMcpToolResponse>("/v1/mcp/execute", {
      token,
      body: { server: "calculator", tool: "multiply", input: { a: "0.1", b: 3 } },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      status: "succeeded",
      output: { result: 0.3, decimal: "0.3", exact: true },
      error: null,
      durationMs: expect.any(Number),
    });
    const failed = await api.post<ExecuteMcpToolResponse>("/v1/mcp/execute", {
      token,
      body: { server: "calculator", tool: "divide", input: { a: 1, b: 0 } },
    });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({
      status: "failed",
      output: null,
      error: { reason: "division_by_zero", message: expect.any(String) },
    });
    const invalid = await api.post<ExecuteMcpToolResponse>("/v1/mcp/execute", {
      token,
      body: { server: "calculator", tool: "add", input: { a: 1 } },
    });
    expect(invalid.status).toBe(200);
    expect(invalid.body).toMatchObject({
      status: "failed",
      error: { reason: "invalid_input", issues: [{ path: "b" }] },
    });

    const recorded = await executions(token, "?source=builtin");
    expect(recorded.data.map((e) => e.id)).toEqual([
      invalid.body.executionId,
      failed.body.executionId,
      ok.body.executionId,
    ]);
  });

  it.each([
    ["input that is not an object", { server: "calculator", tool: "add", input: [1, 2] }, "input"],
    ["a missing tool", { server: "calculator", input: {} }, "tool"],
    ["an empty server name", { server: "", tool: "add", input: {} }, "server"],
  ])("refuses %s with 400", async (_label, body, path) => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/mcp/execute", { token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("answers 404 for an unknown server or tool, recording nothing", async () => {
    const { token } = await createTenant();
    for (const body of [
      { server: "nope", tool: "add", input: {} },
      { server: "calculator", tool: "sqrt", input: { a: 4 } },
    ]) {
      const res = await api.post<ProblemBody>("/v1/mcp/execute", { token, body });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await executions(token)).data).toEqual([]);
  });

  it("needs a credential, and mcp:execute", async () => {
    const fixture = await createTenant();
    const route = {
      method: "post" as const,
      path: "/v1/mcp/execute",
      body: { server: "calculator", tool: "add", input: { a: 1, b: 2 } },
    };
    await expectAuthRequired(route);
    await expectRoles(fixture, route, { allowed: ["owner", "admin", "member"], denied: ["viewer"] });
  });
});

describe("GET /v1/mcp/executions", () => {
  it("filters by server, tool, status, source and run, and pages newest first", async () => {
    const fixture = await createTenant();
    const { token, tenant } = fixture;
    const runId = newId();
    await withTenantDb(tenant.id, async (db) => {
      const ctx = {
        tenantId: tenant.id,
        principal: { kind: "api_key" as const, tenantId: tenant.id, keyId: newId(), role: "member" as const },
        db,
        config: parseConfig(env),
        env,
        signal: new AbortController().signal,
      };
      for (const [toolName, input] of [
        ["add", { a: 1, b: 1 }],
        ["divide", { a: 1, b: 0 }],
        ["power", { a: 2, b: 8 }],
      ] as const) {
        await executeBuiltinTool(ctx, { serverName: "calculator", toolName, input, runId });
      }
    });
    await api.post("/v1/mcp/execute", {
      token,
      body: { server: "calculator", tool: "add", input: { a: 2, b: 2 } },
    });

    const tools = async (query: string) => (await executions(token, query)).data.map((e) => e.toolName);
    expect(await tools("")).toEqual(["add", "power", "divide", "add"]);
    expect(await tools(`?runId=${runId}`)).toEqual(["power", "divide", "add"]);
    expect(await tools("?tool=add")).toEqual(["add", "add"]);
    expect(await tools("?status=failed")).toEqual(["divide"]);
    expect(await tools("?server=calculator&source=builtin&status=succeeded")).toEqual([
      "add",
      "power",
      "add",
    ]);
    expect(await tools("?server=filesystem")).toEqual([]);
    expect(await tools("?source=remote")).toEqual([]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ListMcpToolExecutionsResponse = await executions(
        token,
        `?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...page.data.map((e) => e.toolName));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["add", "power", "divide", "add"]);
  });

  it.each([
    ["an unknown status", "status=done", "status"],
    ["an unknown source", "source=local", "source"],
    ["a run id that is not a UUID", "runId=run-1", "runId"],
    ["an unknown cursor", "cursor=bm90LWEtdXVpZA", "cursor"],
  ])("refuses %s with a 400 naming the field", async (_label, query, path) => {
    const { token } = await createTenant();
    const res = await api.get<ProblemBody>(`/v1/mcp/executions?${query}`, { token });
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("never shows another tenant's executions: B lists none of A's and gets 404 for A's id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const run = await api.post<ExecuteMcpToolResponse>("/v1/mcp/execute", {
      token: a.token,
      body: { server: "calculator", tool: "add", input: { a: 1, b: 2 } },
    });
    expect(run.status).toBe(200);
    expect((await executions(b.token)).data).toEqual([]);
    const theirs = await api.get<ProblemBody>(`/v1/mcp/executions/${run.body.executionId}`, {
      token: b.token,
    });
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({ code: "NOT_FOUND" });
    const unknown = await api.get<ProblemBody>(`/v1/mcp/executions/${newId()}`, { token: a.token });
    expect(unknown.status).toBe(404);
    expect((await api.get(`/v1/mcp/executions/${run.body.executionId}`, { token: a.token })).status).toBe(
      200,
    );
  });

  it("is readable by every role, after a credential", async () => {
    const fixture = await createTenant();
    for (const path of ["/v1/mcp/builtin", "/v1/mcp/executions", `/v1/mcp/executions/${newId()}`]) {
      await expectAuthRequired({ method: "get", path });
      await expectRoles(
        fixture,
        { method: "get", path },
        { allowed: ["viewer", "member", "admin"], denied: [] },
      );
    }
  });
});
