import { describe, expect, it } from "vitest";
import { toolExecutions } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { type ErrorCode, statusOf } from "../../lib/errors";
import { costMicroUsd, MODEL_CATALOG } from "../../lib/models";
import type { ListAgentRunsResponse } from "../agent-runs/list-agent-runs";
import type { AgentRunResponse } from "../agent-runs/schemas";
import type { GetConversationResponse } from "../conversations/get-conversation";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ExecuteAgentResponse } from "./execute-agent";
import type { AgentResponse } from "./schemas";

async function createAgent(token: string, extra: Record<string, unknown> = {}): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "runner", model: "claude-sonnet-4-6", systemPrompt: "Be brief.", ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const calculatorAgent = { tools: [{ name: "calculator", type: "builtin" }] };

describe("POST /v1/agents/{id}/execute", () => {
  it("answers in a new conversation and stores the run, its usage and the messages", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "Hello there" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.output).toBe("Echo: Hello there");
    // Without an Anthropic key, development and tests run against the local model server, and say so.
    expect(res.headers.get("meridian-model-provider")).toBe("local");
    expect(res.body.error).toBeNull();
    expect(res.body.run).toMatchObject({
      agentId: agent.id,
      agentVersion: 1,
      conversationId: res.body.conversationId,
      status: "succeeded",
      stopReason: "end_turn",
      model: "claude-sonnet-4-6",
      modelCalls: 1,
      toolCalls: 0,
      error: null,
    });
    expect(res.body.run.inputTokens).toBeGreaterThan(0);
    expect(res.body.run.outputTokens).toBeGreaterThan(0);
    // The cost is the price table's: claude-sonnet-4-6 at $3 in / $15 out per million tokens.
    expect(res.body.run.costMicroUsd).toBe(
      costMicroUsd(MODEL_CATALOG["claude-sonnet-4-6"].price, {
        inputTokens: res.body.run.inputTokens,
        outputTokens: res.body.run.outputTokens,
        cacheCreationInputTokens: res.body.run.cacheCreationInputTokens,
        cacheReadInputTokens: res.body.run.cacheReadInputTokens,
      }),
    );
    expect(res.body.run.costMicroUsd).toBe(res.body.run.inputTokens * 3 + res.body.run.outputTokens * 15);
    // Per model call too, on the assistant message.
    expect(res.body.messages[1]).toMatchObject({
      inputTokens: res.body.run.inputTokens,
      outputTokens: res.body.run.outputTokens,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
      costMicroUsd: res.body.run.costMicroUsd,
    });
    expect(res.body.run.finishedAt).not.toBeNull();
    expect(res.body.messages.map((m) => m.role)).toEqual(["user", "assistant"]);

    const conversation = await api.get<GetConversationResponse>(
      `/v1/conversations/${res.body.conversationId}`,
      { token },
    );
    expect(conversation.status).toBe(200);
    expect(conversation.body.agentId).toBe(agent.id);
    expect(conversation.body.messages.map((m) => [m.sequence, m.role])).toEqual([
      [1, "user"],
      [2, "assistant"],
    ]);
    expect(conversation.body.messages[0]?.content).toEqual([{ type: "text", text: "Hello there" }]);
    expect(conversation.body.messages[1]).toMatchObject({ model: "claude-sonnet-4-6" });
    expect(conversation.body.messages[1]?.outputTokens).toBeGreaterThan(0);

    const run = await api.get<AgentRunResponse>(`/v1/agent-runs/${res.body.run.id}`, { token });
    expect(run.status).toBe(200);
    expect(run.body).toEqual(res.body.run);
  });

  it("runs a built-in tool and feeds its result back to the model", async () => {
    const { token, tenant } = await createTenant();
    const agent = await createAgent(token, calculatorAgent);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "What is 2 + 3?" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({
      status: "succeeded",
      stopReason: "end_turn",
      modelCalls: 2,
      toolCalls: 1,
    });
    expect(res.body.output).toContain("5");
    expect(res.body.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    const assistantBlocks = (res.body.messages[1]?.content ?? []) as { type: string; id?: string }[];
    const toolUse = assistantBlocks.find((b) => b.type === "tool_use");
    expect(res.body.messages[2]?.content).toEqual([
      expect.objectContaining({ type: "tool_result", tool_use_id: toolUse?.id }),
    ]);

    const rows = await withTenantDb(tenant.id, (db) => db.select().from(toolExecutions));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      conversationId: res.body.conversationId,
      messageId: res.body.messages[1]?.id,
      toolUseId: toolUse?.id,
      toolName: "calculator",
      status: "succeeded",
      input: { operation: "add", a: 2, b: 3 },
      error: null,
    });
    expect(JSON.stringify(rows[0]?.output)).toContain("5");
    expect(rows[0]?.finishedAt).not.toBeNull();
  });

  it("continues a conversation, sending the earlier turns to the model", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([
      { message: { content: [{ type: "text", text: "First answer." }] } },
      { message: { content: [{ type: "text", text: "Second answer." }] } },
    ]);
    const headers = { "x-model-scenario": scenario };
    const first = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers,
      body: { message: "First question" },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.output).toBe("First answer.");
    const second = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers,
      body: { message: "Second question", conversationId: first.body.conversationId },
    });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.conversationId).toBe(first.body.conversationId);
    expect(second.body.output).toBe("Second answer.");
    expect(second.body.messages.map((m) => m.sequence)).toEqual([3, 4]);

    const requests = await modelRequests(scenario);
    expect(requests).toHaveLength(2);
    expect(requests[1]?.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "First question" }] },
      { role: "assistant", content: [{ type: "text", text: "First answer." }] },
      { role: "user", content: [{ type: "text", text: "Second question" }] },
    ]);
    expect(requests[1]?.body).toMatchObject({ system: "Be brief.", model: "claude-sonnet-4-6" });

    const runs = await api.get<ListAgentRunsResponse>(
      `/v1/agent-runs?agentId=${agent.id}&conversationId=${first.body.conversationId}`,
      { token },
    );
    expect(runs.body.data.map((r) => r.id)).toEqual([second.body.run.id, first.body.run.id]);
  });

  it("refuses a conversation of another agent (422) and an unknown one (404)", async () => {
    const { token } = await createTenant();
    const a = await createAgent(token);
    const b = await createAgent(token);
    const first = await api.post<ExecuteAgentResponse>(`/v1/agents/${a.id}/execute`, {
      token,
      body: { message: "hi" },
    });
    const other = await api.post<ProblemBody>(`/v1/agents/${b.id}/execute`, {
      token,
      body: { message: "hi", conversationId: first.body.conversationId },
    });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: "UNPROCESSABLE" });
    const unknown = await api.post<ProblemBody>(`/v1/agents/${a.id}/execute`, {
      token,
      body: { message: "hi", conversationId: crypto.randomUUID() },
    });
    expect(unknown.status).toBe(404);
  });

  it("stops after the agent's maxToolIterations tool rounds", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, { ...calculatorAgent, resourceLimits: { maxToolIterations: 2 } });
    const toolUse = {
      message: {
        content: [{ type: "tool_use", name: "calculator", input: { operation: "add", a: 1, b: 1 } }],
        stop_reason: "tool_use",
      },
    };
    const scenario = await scriptModel([toolUse, toolUse, toolUse, toolUse]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Loop forever" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({
      status: "succeeded",
      stopReason: "max_tool_iterations",
      modelCalls: 2,
      toolCalls: 2,
    });
    expect(await modelRequests(scenario)).toHaveLength(2);

    // The conversation ends on a tool round; the next run's message joins that user turn.
    const next = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Stop now", conversationId: res.body.conversationId },
    });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.run.status).toBe("succeeded");
  });

  it("refuses to run an agent whose model the tenant no longer allows (422), and stores nothing", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const narrowed = await api.patch("/v1/tenant", {
      token,
      body: { settings: { allowedModels: ["claude-haiku-4-5"] } },
    });
    expect(narrowed.status).toBe(200);
    const res = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "hi" },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.path)).toEqual(["model"]);
    const runs = await api.get<ListAgentRunsResponse>("/v1/agent-runs", { token });
    expect(runs.body.data).toEqual([]);
  });

  it("caches the system prompt and the conversation: at most 4 breakpoints, and the next run reads the cache", async () => {
    const { token } = await createTenant();
    // Long enough to pass claude-sonnet-4-6's minimum cacheable prompt (1024 tokens).
    const systemPrompt = `You are a careful analyst. ${"Follow the house rules precisely. ".repeat(200)}`;
    const agent = await createAgent(token, { systemPrompt, ...calculatorAgent });
    const scenario = await scriptModel([]);
    const first = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "First question" },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.run.cacheCreationInputTokens).toBeGreaterThan(0);
    const second = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Second question", conversationId: first.body.conversationId },
    });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.run.cacheReadInputTokens).toBeGreaterThan(0);

    const requests = await modelRequests(scenario);
    for (const request of requests) {
      const marked = JSON.stringify(request.body).match(/"cache_control"/g) ?? [];
      expect(marked.length).toBeGreaterThan(0);
      expect(marked.length).toBeLessThanOrEqual(4);
      expect(request.body.system).toEqual([
        { type: "text", text: systemPrompt, cache_control: { type: "ephemeral" } },
      ]);
    }
  });

  it("retries a throttled provider after its retry-after and answers", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([
      { error: { status: 429, type: "rate_limit_error", headers: { "retry-after-ms": "50" } } },
      { error: { status: 529, type: "overloaded_error", headers: { "retry-after-ms": "50" } } },
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Hello" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({ status: "succeeded", stopReason: "end_turn", modelCalls: 1 });
    expect(res.body.output).toBe("Echo: Hello");
    expect(await modelRequests(scenario)).toHaveLength(3);
  });

  it.each([
    { status: 429, type: "rate_limit_error", code: "BAD_GATEWAY", attempts: 4 },
    { status: 529, type: "overloaded_error", code: "UNAVAILABLE", attempts: 4 },
    { status: 500, type: "api_error", code: "BAD_GATEWAY", attempts: 4 },
    { status: 400, type: "invalid_request_error", code: "UNPROCESSABLE", attempts: 1 },
  ])(
    "records a run as failed when the provider keeps answering $status",
    async ({ status, type, code, attempts }) => {
      const { token } = await createTenant();
      const agent = await createAgent(token);
      const failure = {
        error: { status, type, message: "scripted failure", headers: { "retry-after-ms": "20" } },
      };
      const scenario = await scriptModel(Array.from({ length: 4 }, () => failure));
      const res = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
        token,
        headers: { "x-model-scenario": scenario },
        body: { message: "Hello" },
      });
      // A clear problem with a stable code; the failed run is kept and named.
      expect(res.status, JSON.stringify(res.body)).toBe(statusOf(code as ErrorCode));
      expect(res.body.code).toBe(code);
      const runId = res.headers.get("x-run-id") ?? "";
      expect(res.headers.get("location")).toBe(`/v1/agent-runs/${runId}`);
      expect(res.body.detail).toContain(runId);
      expect(await modelRequests(scenario)).toHaveLength(attempts);
      const stored = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
      expect(stored.body).toMatchObject({ status: "failed", stopReason: "error", modelCalls: 0 });
      expect(stored.body.error).toContain(code);
      const conversation = await api.get<GetConversationResponse>(
        `/v1/conversations/${stored.body.conversationId}`,
        { token },
      );
      expect(conversation.body.messages.map((m) => m.role)).toEqual(["user"]);
    },
  );

  it("keeps tenants apart: foreign agents and runs are 404 and lists don't leak", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const agent = await createAgent(a.token);
    const run = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token: a.token,
      body: { message: "mine" },
    });
    expect(run.status).toBe(200);

    const foreign = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token: b.token,
      body: { message: "theirs" },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ code: "NOT_FOUND" });
    const bAgent = await createAgent(b.token);
    const foreignConversation = await api.post<ProblemBody>(`/v1/agents/${bAgent.id}/execute`, {
      token: b.token,
      body: { message: "theirs", conversationId: run.body.conversationId },
    });
    expect(foreignConversation.status).toBe(404);
    expect((await api.get(`/v1/agent-runs/${run.body.run.id}`, { token: b.token })).status).toBe(404);
    const list = await api.get<ListAgentRunsResponse>("/v1/agent-runs", { token: b.token });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    const filtered = await api.get<ListAgentRunsResponse>(`/v1/agent-runs?agentId=${agent.id}`, {
      token: b.token,
    });
    expect(filtered.body.data).toEqual([]);
    const own = await api.get<ListAgentRunsResponse>("/v1/agent-runs", { token: a.token });
    expect(own.body.data.map((r) => r.id)).toEqual([run.body.run.id]);
  });

  it("validates the body", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    for (const body of [{}, { message: "" }, { message: "x".repeat(100_001) }, { message: "hi", extra: 1 }]) {
      const res = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, { token, body });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
    }
  });

  it("requires authentication and agents:write; runs need agents:read", async () => {
    const fixture = await createTenant();
    const agent = await createAgent(fixture.token);
    const route = {
      method: "post" as const,
      path: `/v1/agents/${agent.id}/execute`,
      body: { message: "hi" },
    };
    await expectAuthRequired(route);
    await expectRoles(fixture, route, { allowed: ["member"], denied: ["viewer"] });
    await expectAuthRequired({ method: "get", path: "/v1/agent-runs" });
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/agent-runs" },
      { allowed: ["viewer"], denied: [] },
    );
  });
});
