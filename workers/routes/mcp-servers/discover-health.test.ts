import { describe, expect, it } from "vitest";
import { fakeScope } from "../../../mcp/client/test-fixtures";
import { FAKE_MCP_TOKEN } from "../../../scripts/local-stack/fake-mcp-server";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import type { ExecuteMcpToolResponse } from "../mcp/execute-mcp-tool";
import type { ListMcpToolExecutionsResponse } from "../mcp/list-mcp-tool-executions";
import type { CheckMcpServerHealthResponse } from "./check-mcp-server-health";
import type { DiscoverMcpServerResponse } from "./discover-mcp-server";
import type { ListMcpServersResponse } from "./list-mcp-servers";
import type { McpServerResponse } from "./schemas";

let counter = 0;

async function register(token: string, url: string, body: Record<string, unknown> = {}) {
  const res = await api.post<McpServerResponse>("/v1/mcp/servers", {
    token,
    body: { name: `remote-${++counter}-${crypto.randomUUID().slice(0, 6)}`, url, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe("GET /v1/mcp/servers/{id}/discover", () => {
  it("lists tools, resources and prompts, then serves them from the cache without calling the server", async () => {
    const { token } = await createTenant();
    const fake = fakeScope();
    const server = await register(token, `${fake.base}/mcp`);
    expect(await fake.count()).toBe(0);

    const first = await api.get<DiscoverMcpServerResponse>(`/v1/mcp/servers/${server.id}/discover`, {
      token,
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({
      serverId: server.id,
      cached: false,
      transport: "streamable_http",
      server: { name: "fake-mcp-full", version: "1.0.0" },
      resources: [{ uri: "fake://readme", name: "readme", mimeType: "text/plain" }],
      prompts: [{ name: "greet", arguments: [{ name: "name", required: true }] }],
    });
    expect(first.body.tools.map((t) => t.name)).toEqual(["echo", "add", "slow", "huge", "fail"]);
    expect(first.body.tools.find((t) => t.name === "add")).toMatchObject({
      description: "Adds two numbers.",
      inputSchema: { type: "object", required: ["a", "b"] },
      outputSchema: { type: "object" },
    });
    expect(Date.parse(first.body.expiresAt) - Date.parse(first.body.discoveredAt)).toBe(10 * 60_000);
    const afterFirst = await fake.count();
    expect(afterFirst).toBeGreaterThan(0);

    const second = await api.get<DiscoverMcpServerResponse>(`/v1/mcp/servers/${server.id}/discover`, {
      token,
    });
    expect(second.body).toEqual({ ...first.body, cached: true });
    expect(await fake.count()).toBe(afterFirst);

    const got = await api.get<McpServerResponse>(`/v1/mcp/servers/${server.id}`, { token });
    expect(got.body).toMatchObject({ toolCount: 5, discoveredAt: first.body.discoveredAt });

    const refreshed = await api.get<DiscoverMcpServerResponse>(
      `/v1/mcp/servers/${server.id}/discover?refresh=true`,
      { token },
    );
    expect(refreshed.body.cached).toBe(false);
    expect(Date.parse(refreshed.body.discoveredAt)).toBeGreaterThanOrEqual(
      Date.parse(first.body.discoveredAt),
    );
    expect(await fake.count()).toBeGreaterThan(afterFirst);
  });

  it("forgets the cache when the URL changes", async () => {
    const { token } = await createTenant();
    const server = await register(token, `${fakeScope().base}/mcp`);
    await api.get(`/v1/mcp/servers/${server.id}/discover`, { token });
    const bare = fakeScope();
    const patched = await api.patch<McpServerResponse>(`/v1/mcp/servers/${server.id}`, {
      token,
      body: { url: `${bare.base}/bare/mcp` },
    });
    expect(patched.body).toMatchObject({ toolCount: null, discoveredAt: null });
    const res = await api.get<DiscoverMcpServerResponse>(`/v1/mcp/servers/${server.id}/discover`, { token });
    expect(res.body).toMatchObject({ cached: false, resources: [], prompts: [] });
    expect(res.body.tools.map((t) => t.name)).toEqual(["echo"]);
    expect(await bare.count()).toBeGreaterThan(0);
  });

  it("falls back to the legacy SSE transport, and speaks it when registered as sse", async () => {
    const { token } = await createTenant();
    for (const transport of ["streamable_http", "sse"]) {
      const server = await register(token, `${fakeScope().base}/sse`, { transport });
      const res = await api.get<DiscoverMcpServerResponse>(`/v1/mcp/servers/${server.id}/discover`, {
        token,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.transport).toBe("sse");
      expect(res.body.tools).toHaveLength(5);
    }
  });

  it("sends the server's credential", async () => {
    const { token } = await createTenant();
    await api.put("/v1/secrets/FAKE_MCP", { token, body: { value: FAKE_MCP_TOKEN } });
    const fake = fakeScope();
    const named = await register(token, `${fake.base}/auth/mcp`, { authSecretName: "FAKE_MCP" });
    expect((await api.get(`/v1/mcp/servers/${named.id}/discover`, { token })).status).toBe(200);
    const inline = await register(token, `${fake.base}/auth/mcp`, { authToken: FAKE_MCP_TOKEN });
    expect((await api.get(`/v1/mcp/servers/${inline.id}/discover`, { token })).status).toBe(200);
    const requests = await fake.requests();
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) expect(r.headers.authorization).toBe(`Bearer ${FAKE_MCP_TOKEN}`);
  });

  it.each([
    ["a server that is not MCP", "/garbage", {}, 502, "invalid_response"],
    ["a refused credential", "/auth/mcp", {}, 502, "auth_failed"],
    ["an upstream 500", "/status/500", {}, 502, "http_error"],
    ["a closed port", "http://127.0.0.1:9/mcp", {}, 502, "unreachable"],
  ])("answers %s with a problem naming the reason", async (_label, path, body, status, reason) => {
    const { token } = await createTenant();
    const url = path.startsWith("http") ? path : `${fakeScope().base}${path}`;
    const server = await register(token, url, body);
    const res = await api.get<ProblemBody>(`/v1/mcp/servers/${server.id}/discover`, { token });
    expect(res.status).toBe(status);
    expect(res.body.code).toBe("BAD_GATEWAY");
    expect(res.body.detail).toContain(`(reason: ${reason})`);
  });

  it("is 422 when the named secret was deleted, and 409 for a disabled server", async () => {
    const { token } = await createTenant();
    await api.put("/v1/secrets/GONE", { token, body: { value: "v" } });
    const fake = fakeScope();
    const server = await register(token, `${fake.base}/mcp`, { authSecretName: "GONE" });
    await api.delete("/v1/secrets/GONE", { token });
    const missing = await api.get<ProblemBody>(`/v1/mcp/servers/${server.id}/discover`, { token });
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toContain("secret_missing");

    await api.patch(`/v1/mcp/servers/${server.id}`, { token, body: { status: "disabled" } });
    for (const op of ["discover", "health"]) {
      const res = await api.get<ProblemBody>(`/v1/mcp/servers/${server.id}/${op}`, { token });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe("CONFLICT");
    }
    expect(await fake.count()).toBe(0);
  });
});

describe("GET /v1/mcp/servers/{id}/health", () => {
  it("pings a healthy server, records latency, and shows it on the server", async () => {
    const { token } = await createTenant();
    const server = await register(token, `${fakeScope().base}/mcp`);
    const res = await api.get<CheckMcpServerHealthResponse>(`/v1/mcp/servers/${server.id}/health`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      serverId: server.id,
      status: "healthy",
      error: null,
      reason: null,
      transport: "streamable_http",
    });
    expect(res.body.latencyMs).toBeGreaterThanOrEqual(0);
    const got = await api.get<McpServerResponse>(`/v1/mcp/servers/${server.id}`, { token });
    expect(got.body.health).toEqual({
      status: "healthy",
      latencyMs: res.body.latencyMs,
      lastError: null,
      checkedAt: res.body.checkedAt,
    });
  });

  it("answers 200 unreachable for a server that does not answer; the list shows and filters it", async () => {
    const { token } = await createTenant();
    const down = await register(token, "http://127.0.0.1:9/mcp");
    const up = await register(token, `${fakeScope().base}/mcp`);
    const res = await api.get<CheckMcpServerHealthResponse>(`/v1/mcp/servers/${down.id}/health`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "unreachable",
      latencyMs: null,
      reason: "unreachable",
      transport: null,
    });
    expect(res.body.error).toBeTruthy();
    const unhealthy = await api.get<ListMcpServersResponse>("/v1/mcp/servers?health=unreachable", { token });
    expect(unhealthy.body.data.map((s) => s.id)).toEqual([down.id]);
    expect(unhealthy.body.data[0]?.health).toMatchObject({
      status: "unreachable",
      lastError: res.body.error,
    });
    const unknown = await api.get<ListMcpServersResponse>("/v1/mcp/servers?health=unknown", { token });
    expect(unknown.body.data.map((s) => s.id)).toEqual([up.id]);
  });

  it("needs a credential; every role may check and discover", async () => {
    const fixture = await createTenant();
    const server = await register(fixture.token, `${fakeScope().base}/mcp`);
    for (const op of ["discover", "health"]) {
      const route = { method: "get", path: `/v1/mcp/servers/${server.id}/${op}` } as const;
      await expectAuthRequired(route);
      await expectRoles(fixture, route, { allowed: ["owner", "admin", "member", "viewer"], denied: [] });
    }
  });
});

describe("POST /v1/mcp/execute with a remote server", () => {
  it("calls the remote tool by server name, records it, and reports failures as results", async () => {
    const { token } = await createTenant();
    const server = await register(token, `${fakeScope().base}/mcp`);
    const ok = await api.post<ExecuteMcpToolResponse>("/v1/mcp/execute", {
      token,
      body: { server: server.name, tool: "echo", input: { text: "through the API" } },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({
      status: "succeeded",
      output: { content: [{ type: "text", text: "through the API" }] },
      error: null,
    });

    const invalid = await api.post<ExecuteMcpToolResponse>("/v1/mcp/execute", {
      token,
      body: { server: server.name, tool: "echo", input: { text: 42 } },
    });
    expect(invalid.body).toMatchObject({ status: "failed", error: { reason: "invalid_input" } });

    const log = await api.get<ListMcpToolExecutionsResponse>(`/v1/mcp/executions?server=${server.name}`, {
      token,
    });
    expect(
      log.body.data.map((e) => [e.source, e.serverId, e.toolName, e.status, e.error?.reason ?? null]),
    ).toEqual([
      ["remote", server.id, "echo", "failed", "invalid_input"],
      ["remote", server.id, "echo", "succeeded", null],
    ]);
    expect(log.body.data[1]?.id).toBe(ok.body.executionId);
  });

  it("is 404 for an unknown server or tool, another tenant's server included", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const server = await register(a.token, `${fakeScope().base}/mcp`);
    for (const [token, body] of [
      [a.token, { server: "nope", tool: "echo", input: {} }],
      [a.token, { server: server.name, tool: "nope", input: {} }],
      [b.token, { server: server.name, tool: "echo", input: { text: "x" } }],
    ] as const) {
      const res = await api.post<ProblemBody>("/v1/mcp/execute", { token, body });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
  });

  it("lets members execute remote tools, not viewers", async () => {
    const fixture = await createTenant();
    const server = await register(fixture.token, `${fakeScope().base}/mcp`);
    await expectRoles(
      fixture,
      {
        method: "post",
        path: "/v1/mcp/execute",
        body: { server: server.name, tool: "echo", input: { text: "x" } },
      },
      { allowed: ["owner", "admin", "member"], denied: ["viewer"] },
    );
  });
});
