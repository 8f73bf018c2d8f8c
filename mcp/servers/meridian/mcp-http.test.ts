import { env } from "cloudflare:workers";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { api } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import type { Role } from "../../../workers/auth/roles";
import { parseConfig } from "../../../workers/env";
import type { ListAgentRunsResponse } from "../../../workers/routes/agent-runs/list-agent-runs";
import type { AgentRunResponse } from "../../../workers/routes/agent-runs/schemas";
import type { AgentResponse } from "../../../workers/routes/agents/schemas";
import { withTenantDb } from "../../../workers/routes/conversations/test-fixtures";
import { createCollection, settled, uploadText } from "../../../workers/routes/rag-documents/test-fixtures";
import { executeBuiltinTool } from "../../server/execute";
import { connectBuiltin } from "../../server/test-client";
import type { RunView } from "./runs";

const clients: Client[] = [];

beforeAll(async () => {
  // The first tenant pays the isolate's cold start under the hook timeout, not a test's.
  await createTenant();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function connect(token: string): Promise<Client> {
  const client = await connectBuiltin("meridian", token);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

async function createAgent(token: string, name: string, description?: string): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: {
      name,
      model: "claude-sonnet-4-6",
      systemPrompt: "Be brief.",
      ...(description ? { description } : {}),
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A tenant with an owner token and an API key of `role`, as an MCP client would hold. */
async function tenantWithKey(role: Role = "member") {
  const fixture = await createTenant();
  return { ...fixture, key: await fixture.keyWithRole(role) };
}

describe("meridian over MCP (POST /v1/mcp/builtin/meridian)", () => {
  test("lists its tools with their schemas and hints", async () => {
    const { key } = await tenantWithKey();
    const client = await connect(key);
    expect(client.getServerVersion()).toMatchObject({ name: "meridian" });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "get_run",
      "list_agents",
      "list_collections",
      "run_agent",
      "search_knowledge_base",
    ]);
    expect(tools.find((t) => t.name === "run_agent")?.inputSchema).toMatchObject({
      type: "object",
      required: ["agentId", "message"],
    });
    expect(tools.find((t) => t.name === "list_agents")?.annotations).toMatchObject({ readOnlyHint: true });
    expect(tools.find((t) => t.name === "run_agent")?.annotations).toMatchObject({ readOnlyHint: false });
  });

  test("list_agents returns the tenant's live agents and nobody else's", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const helper = await createAgent(a.token, "Helper", "Answers questions");
    const gone = await createAgent(a.token, "Gone");
    expect((await api.delete(`/v1/agents/${gone.id}`, { token: a.token })).status).toBe(204);
    await createAgent(b.token, "B's own");

    const listA = await call(await connect(a.key), "list_agents", {});
    expect(listA.isError).toBeFalsy();
    expect(listA.structuredContent).toEqual({
      agents: [
        { id: helper.id, name: "Helper", description: "Answers questions", model: "claude-sonnet-4-6" },
      ],
      truncated: false,
    });
    const listB = await call(await connect(b.key), "list_agents", {});
    expect((listB.structuredContent as { agents: { name: string }[] }).agents.map((x) => x.name)).toEqual([
      "B's own",
    ]);
  });

  test("lists and searches the tenant's knowledge bases, and finds nothing of another tenant's", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const collection = await createCollection(a.token, { name: "handbook" });
    const doc = await uploadText(
      a.token,
      collection.id,
      "Refunds are paid within 30 days to the original card.",
      {
        title: "Refund policy",
      },
    );
    await uploadText(
      b.token,
      (await createCollection(b.token, { name: "handbook" })).id,
      "B's own refunds take a year.",
    );
    expect((await settled(a.token, doc.id)).status).toBe("indexed");

    const clientA = await connect(a.key);
    const listed = await call(clientA, "list_collections", {});
    expect(listed.structuredContent).toEqual({
      collections: [{ id: collection.id, name: "handbook", description: null }],
      truncated: false,
    });
    const found = await call(clientA, "search_knowledge_base", {
      query: "refund days",
      collectionIds: [collection.id],
    });
    expect(found.isError).toBeFalsy();
    const results = (found.structuredContent as { results: { documentId: string; content: string }[] })
      .results;
    expect(results[0]).toMatchObject({ documentId: doc.id, content: expect.stringContaining("30 days") });
    expect(JSON.stringify(results)).not.toContain("a year");

    // Tenant B's key names A's collection: the same answer as an id that does not exist.
    const foreign = await call(await connect(b.key), "search_knowledge_base", {
      query: "refund days",
      collectionIds: [collection.id],
    });
    expect(foreign.isError).toBe(true);
    expect(JSON.stringify(foreign.content)).toContain("not found");
    expect(JSON.stringify(foreign.content)).not.toContain("30 days");
  });

  test("run_agent answers with the model's reply, as a sync run visible through the API", async () => {
    const { key, token } = await tenantWithKey();
    const agent = await createAgent(token, "Echoer");
    const client = await connect(key);

    const first = await call(client, "run_agent", { agentId: agent.id, message: "Hello from MCP" });
    expect(first.isError, JSON.stringify(first.content)).toBeFalsy();
    const run = first.structuredContent as unknown as RunView;
    expect(run).toMatchObject({
      agentId: agent.id,
      status: "succeeded",
      stopReason: "end_turn",
      output: "Echo: Hello from MCP",
      error: null,
    });

    const stored = await api.get<AgentRunResponse>(`/v1/agent-runs/${run.runId}`, { token });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      id: run.runId,
      agentId: agent.id,
      conversationId: run.conversationId,
      mode: "sync",
      status: "succeeded",
    });

    const next = await call(client, "run_agent", {
      agentId: agent.id,
      message: "And again",
      conversationId: run.conversationId,
    });
    expect(next.structuredContent).toMatchObject({
      conversationId: run.conversationId,
      status: "succeeded",
      output: "Echo: And again",
    });

    const followed = await call(client, "get_run", { runId: run.runId });
    expect(followed.structuredContent).toEqual(run);

    // Recorded like every built-in call, with the API key as the caller.
    const executions = await api.get<{ data: { toolName: string; serverName: string; status: string }[] }>(
      "/v1/mcp/executions",
      { token },
    );
    expect(executions.status).toBe(200);
    expect(
      executions.body.data.filter((e) => e.serverName === "meridian" && e.toolName === "run_agent"),
    ).toHaveLength(2);
  });

  test("another tenant's agent or run is not found, and nothing runs", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const agentOfA = await createAgent(a.token, "Private");
    const runOfA = (await call(await connect(a.key), "run_agent", { agentId: agentOfA.id, message: "mine" }))
      .structuredContent as unknown as RunView;

    const clientB = await connect(b.key);
    const run = await call(clientB, "run_agent", { agentId: agentOfA.id, message: "let me in" });
    expect(run.isError).toBe(true);
    expect(run.structuredContent).toMatchObject({ reason: "not_found" });
    const read = await call(clientB, "get_run", { runId: runOfA.runId });
    expect(read.isError).toBe(true);
    expect(read.structuredContent).toMatchObject({ reason: "not_found" });

    const runsOfA = await api.get<ListAgentRunsResponse>(`/v1/agent-runs?agentId=${agentOfA.id}`, {
      token: a.token,
    });
    expect(runsOfA.body.data.map((r) => r.id)).toEqual([runOfA.runId]);
  });

  test("bad input and unknown agents are error results with their reason", async () => {
    const { key } = await tenantWithKey();
    const client = await connect(key);
    const invalid = await call(client, "run_agent", { agentId: "not-a-uuid", message: "" });
    expect(invalid.isError).toBe(true);
    expect(invalid.structuredContent).toMatchObject({ reason: "invalid_input" });
    const missing = await call(client, "run_agent", { agentId: crypto.randomUUID(), message: "hi" });
    expect(missing.structuredContent).toMatchObject({ reason: "not_found" });
  });

  test("a viewer key cannot reach the endpoint (mcp:execute)", async () => {
    const { key } = await tenantWithKey("viewer");
    await expect(connectBuiltin("meridian", key)).rejects.toThrow(/403|Forbidden|FORBIDDEN/);
  });
});

describe("meridian tools called with a viewer's role (agent runs, POST /v1/mcp/execute)", () => {
  test("run_agent is refused with forbidden and starts nothing; list_agents is allowed", async () => {
    const { tenant, token } = await createTenant();
    const agent = await createAgent(token, "Guarded");
    const results = await withTenantDb(tenant.id, async (db) => {
      const ctx = {
        tenantId: tenant.id,
        principal: {
          kind: "api_key" as const,
          tenantId: tenant.id,
          keyId: crypto.randomUUID(),
          role: "viewer" as const,
        },
        db,
        config: parseConfig(env),
        env,
        signal: new AbortController().signal,
      };
      const run = await executeBuiltinTool(ctx, {
        serverName: "meridian",
        toolName: "run_agent",
        input: { agentId: agent.id, message: "hi" },
      });
      const list = await executeBuiltinTool(ctx, {
        serverName: "meridian",
        toolName: "list_agents",
        input: {},
      });
      return { run, list };
    });
    expect(results.run).toMatchObject({ status: "failed", error: { reason: "forbidden" } });
    expect(results.list).toMatchObject({ status: "succeeded", output: { agents: [{ id: agent.id }] } });
    const runs = await api.get<ListAgentRunsResponse>(`/v1/agent-runs?agentId=${agent.id}`, { token });
    expect(runs.body.data).toEqual([]);
  });
});
