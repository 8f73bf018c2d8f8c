import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { type ConnectionConfig, connect } from "../../../db/client";
import { fakeScope } from "../../../mcp/client/test-fixtures";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { fetchWorker, scrape } from "../../../test/harness/prometheus";
import { entryKey } from "../../cache/keys";
import { parseConfig } from "../../env";
import { redisFor } from "../../lib/redis";
import type { ExecuteAgentResponse } from "../agents/execute-agent";
import type { AgentResponse } from "../agents/schemas";
import type { DiscoverMcpServerResponse } from "./discover-mcp-server";
import type { McpServerResponse } from "./schemas";

/** The table owner: changes a row behind the API's back, to tell a cached answer from a fresh one. */
const owner: ConnectionConfig = {
  DATABASE_URL: inject("ownerDatabaseUrl"),
  NEON_WS_PROXY: (env as unknown as { NEON_WS_PROXY?: string }).NEON_WS_PROXY,
};

async function emptyRegistryBehindTheApi(serverId: string): Promise<void> {
  const client = await connect(owner);
  try {
    await client.query("update mcp_server_registry set tools = '[]' where server_id = $1", [serverId]);
  } finally {
    await client.end();
  }
}

async function register(token: string, url: string): Promise<McpServerResponse> {
  const res = await api.post<McpServerResponse>("/v1/mcp/servers", {
    token,
    body: { name: `remote-${crypto.randomUUID().slice(0, 8)}`, url },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const discover = (token: string, id: string, query = "") =>
  api.get<DiscoverMcpServerResponse & ProblemBody>(`/v1/mcp/servers/${id}/discover${query}`, { token });

describe("MCP discovery cache", () => {
  it("serves a discovery from the cache, and shows an edit, a refresh and a delete at once", async () => {
    const { token } = await createTenant();
    const fake = fakeScope();
    const server = await register(token, `${fake.base}/mcp`);
    const first = await discover(token, server.id);
    expect(first.body.cached).toBe(false);
    expect((await discover(token, server.id)).body.cached).toBe(true);
    const calls = await fake.count();

    // Served from Redis: the registry row changed behind the API is not read...
    await emptyRegistryBehindTheApi(server.id);
    const cached = await discover(token, server.id);
    expect(cached.body).toEqual({ ...first.body, cached: true });
    expect(await fake.count()).toBe(calls);

    // ...until a write through the API, which the very next read follows.
    const disabled = await api.patch(`/v1/mcp/servers/${server.id}`, { token, body: { status: "disabled" } });
    expect(disabled.status).toBe(200);
    expect((await discover(token, server.id)).status).toBe(409);
    await api.patch(`/v1/mcp/servers/${server.id}`, { token, body: { status: "active" } });
    const reread = await discover(token, server.id);
    expect(reread.body.cached).toBe(true);
    expect(reread.body.tools).toEqual([]); // what the registry holds now

    const refreshed = await discover(token, server.id, "?refresh=true");
    expect(refreshed.body.cached).toBe(false);
    expect(refreshed.body.tools).toHaveLength(5);
    const afterRefresh = await discover(token, server.id);
    expect(afterRefresh.body).toEqual({ ...refreshed.body, cached: true });

    const bare = fakeScope();
    await api.patch(`/v1/mcp/servers/${server.id}`, { token, body: { url: `${bare.base}/bare/mcp` } });
    const moved = await discover(token, server.id);
    expect(moved.body.cached).toBe(false);
    expect(moved.body.resources).toEqual([]);
    expect(await bare.count()).toBeGreaterThan(0);

    expect((await api.delete(`/v1/mcp/servers/${server.id}`, { token })).status).toBe(204);
    expect((await discover(token, server.id)).status).toBe(404);
  });

  it("counts hits and misses", async () => {
    const { token } = await createTenant();
    const server = await register(token, `${fakeScope().base}/mcp`);
    await discover(token, server.id);
    const namespace = `test-${crypto.randomUUID()}`;
    const auth = { headers: { authorization: `Bearer ${token}` } };
    for (let i = 0; i < 3; i++) {
      expect((await fetchWorker(`/v1/mcp/servers/${server.id}/discover`, auth, namespace)).status).toBe(200);
    }
    const s = await scrape({ namespace });
    expect(s.value('meridian_cache_requests_total{cache="mcp_discovery",result="miss"}')).toBe(1);
    expect(s.value('meridian_cache_requests_total{cache="mcp_discovery",result="hit"}')).toBe(2);
  });

  it("never answers one tenant with another's entry", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const serverA = await register(a.token, `${fakeScope().base}/mcp`);
    await discover(a.token, serverA.id);
    expect((await discover(a.token, serverA.id)).body.cached).toBe(true);
    expect((await discover(b.token, serverA.id)).status).toBe(404);
  });

  it("offers an agent run the remote tools as cached, and follows a disable, enable and delete at once", async () => {
    const { token, tenant } = await createTenant();
    const server = await register(token, `${fakeScope().base}/mcp`);
    await discover(token, server.id);
    const agent = await api.post<AgentResponse>("/v1/agents", {
      token,
      body: {
        name: "remote-user",
        model: "claude-sonnet-4-6",
        tools: [{ name: "remote_echo", type: "mcp", config: { server: server.name, tool: "echo" } }],
      },
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    const offered = async () => {
      const scenario = await scriptModel([{ message: { content: [{ type: "text", text: "ok" }] } }]);
      const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.body.id}/execute`, {
        token,
        headers: { "x-model-scenario": scenario },
        body: { message: "hello" },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const [request] = await modelRequests(scenario);
      return ((request?.body.tools ?? []) as { name: string }[]).map((t) => t.name);
    };

    expect(await offered()).toEqual(["remote_echo"]);
    const stored = await redisFor(parseConfig(env)).get(
      entryKey({ cache: "mcp_discovery", tenantId: tenant.id }, "tools"),
    );
    expect(stored).not.toBeNull();
    // From the cache: the registry emptied behind the API's back is not read.
    await emptyRegistryBehindTheApi(server.id);
    expect(await offered()).toEqual(["remote_echo"]);
    await discover(token, server.id, "?refresh=true");

    await api.patch(`/v1/mcp/servers/${server.id}`, { token, body: { status: "disabled" } });
    expect(await offered()).toEqual([]);
    await api.patch(`/v1/mcp/servers/${server.id}`, { token, body: { status: "active" } });
    expect(await offered()).toEqual(["remote_echo"]);
    await api.delete(`/v1/mcp/servers/${server.id}`, { token });
    expect(await offered()).toEqual([]);
  });
});
