import { describe, expect, it } from "vitest";
import { toolExecutions } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { openEvents } from "../../../test/harness/sse";
import type { ExecuteAgentResponse } from "../agents/execute-agent";
import type { AgentResponse } from "../agents/schemas";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ApprovalDecidedResponse } from "./decide-approval";
import type { AgentRunResponse } from "./schemas";

async function createAgent(token: string, extra: Record<string, unknown> = {}): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "streamer", model: "claude-sonnet-4-6", ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const approvalAgent = { tools: [{ name: "calculator", type: "builtin", requiresApproval: true }] };
const addTwoAndThree = {
  message: {
    content: [
      { type: "text", text: "Let me add." },
      { type: "tool_use", id: "toolu_add", name: "calculator", input: { operation: "add", a: 2, b: 3 } },
    ],
  },
};

function executeStream(token: string, agentId: string, scenario: string, message = "Hi") {
  return openEvents("POST", `/v1/agents/${agentId}/execute`, {
    token,
    headers: { "x-model-scenario": scenario },
    body: { message, stream: true },
  });
}

/** Polls the run until `done(run)` holds; runs end in their Durable Object, after the request. */
async function waitForRun(
  token: string,
  runId: string,
  done: (run: AgentRunResponse) => boolean,
  timeoutMs = 10_000,
): Promise<AgentRunResponse> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    if (done(res.body) || Date.now() > until) return res.body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("streamed runs", () => {
  it("streams the run's events in order, each with an id, and stores the run", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, { tools: [{ name: "calculator", type: "builtin" }] });
    const scenario = await scriptModel([
      addTwoAndThree,
      { message: { content: [{ type: "text", text: "2 + 3 = 5." }] } },
    ]);
    const stream = await executeStream(token, agent.id, scenario);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const runId = stream.headers.get("x-run-id") ?? "";
    const events = await stream.rest();

    const types = events.map((e) => e.event);
    expect(types[0]).toBe("run_started");
    expect(types.at(-1)).toBe("done");
    expect(types.filter((t) => t === "message_started")).toHaveLength(2);
    const order = ["message_started", "usage", "tool_call_started", "tool_call_finished", "message_started"];
    expect(types.filter((t) => order.includes(t)).slice(0, 5)).toEqual(order);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const text = events
      .filter((e) => e.event === "text_delta")
      .map((e) => e.data.text)
      .join("");
    expect(text).toBe("Let me add.2 + 3 = 5.");
    expect(events.find((e) => e.event === "tool_call_finished")?.data).toMatchObject({
      name: "calculator",
      status: "succeeded",
    });
    expect(events.at(-1)?.data).toMatchObject({
      status: "succeeded",
      stopReason: "end_turn",
      output: "2 + 3 = 5.",
    });

    const run = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    expect(run.body).toMatchObject({ status: "succeeded", mode: "stream", modelCalls: 2, toolCalls: 1 });
    const usage = events.filter((e) => e.event === "usage").map((e) => e.data.outputTokens as number);
    expect(usage.reduce((a, b) => a + b, 0)).toBe(run.body.outputTokens);
  });

  it("resumes after Last-Event-ID: the missed events and the rest, none twice", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const long = Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
    const scenario = await scriptModel([
      { message: { content: [{ type: "text", text: long }] }, eventDelayMs: 40 },
    ]);
    const first = await executeStream(token, agent.id, scenario);
    const runId = first.headers.get("x-run-id") ?? "";
    await first.until("text_delta");
    const lastId = first.seen.at(-1)?.id ?? 0;
    await first.close();

    const resumed = await openEvents("GET", `/v1/agent-runs/${runId}/events`, {
      token,
      headers: { "last-event-id": String(lastId) },
    });
    expect(resumed.status).toBe(200);
    const rest = await resumed.rest();
    expect(rest[0]?.id).toBe(lastId + 1);
    expect(rest.at(-1)?.event).toBe("done");
    const all = [...first.seen, ...rest];
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    const text = all
      .filter((e) => e.event === "text_delta")
      .map((e) => e.data.text)
      .join("");
    expect(text).toBe(long);

    // A finished run replays from the start to anyone who asks within the retention window.
    const replay = await openEvents("GET", `/v1/agent-runs/${runId}/events`, { token });
    expect((await replay.rest()).map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it("keeps running when the client goes away, and is cancelled when nobody reattaches within the grace period", {
    timeout: 20_000,
  }, async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    // The model answers after 12 s. A gone client shows at the next keep-alive (every 5 s), then
    // the grace period (2 s in tests) runs.
    const scenario = await scriptModel([{ delayMs: 12_000 }]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("message_started");
    await stream.close();
    const during = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    expect(during.body.status).toBe("running");
    const run = await waitForRun(token, runId, (r) => r.status !== "running", 11_000);
    expect(run).toMatchObject({ status: "cancelled", stopReason: "client_disconnected" });
  });

  it("is not cancelled when a client reattaches within the grace period", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([{ delayMs: 3500 }]);
    const stream = await executeStream(token, agent.id, scenario, "still there?");
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("message_started");
    await stream.close();
    await new Promise((r) => setTimeout(r, 800));
    const back = await openEvents("GET", `/v1/agent-runs/${runId}/events`, { token });
    const events = await back.rest();
    expect(events.at(-1)?.data).toMatchObject({ status: "succeeded", output: "Echo: still there?" });
  });
});

describe("POST /v1/agent-runs/{id}/cancel", () => {
  it("stops the model call; the run ends cancelled and the stream says so", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([{ delayMs: 8000 }]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("message_started");
    const started = Date.now();
    const cancel = await api.post<AgentRunResponse>(`/v1/agent-runs/${runId}/cancel`, { token });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
    const rest = await stream.rest();
    expect(Date.now() - started).toBeLessThan(4000);
    expect(rest.at(-1)?.data).toMatchObject({ status: "cancelled", stopReason: "cancelled" });
    const run = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    expect(run.body).toMatchObject({ status: "cancelled", stopReason: "cancelled" });
    expect(run.body.finishedAt).not.toBeNull();

    const again = await api.post<ProblemBody>(`/v1/agent-runs/${runId}/cancel`, { token });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
  });
});

describe("tool approvals", () => {
  it("pauses the run until approved, then runs the tool and continues", async () => {
    const { token, tenant } = await createTenant();
    const tenantId = tenant.id;
    const agent = await createAgent(token, approvalAgent);
    const scenario = await scriptModel([
      addTwoAndThree,
      { message: { content: [{ type: "text", text: "5." }] } },
    ]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    const pending = (await stream.until("approval_pending")).at(-1);
    expect(pending?.data).toMatchObject({
      toolUseId: "toolu_add",
      name: "calculator",
      input: { operation: "add", a: 2, b: 3 },
    });

    const waiting = await waitForRun(token, runId, (r) => r.status === "awaiting_approval");
    expect(waiting.status).toBe("awaiting_approval");
    expect(waiting.pendingApproval).toEqual([
      expect.objectContaining({ toolUseId: "toolu_add", name: "calculator" }),
    ]);

    const approve = await api.post<ApprovalDecidedResponse>(`/v1/agent-runs/${runId}/approve`, {
      token,
      body: {},
    });
    expect(approve.status, JSON.stringify(approve.body)).toBe(200);
    expect(approve.body).toEqual({ runId, decision: "approved", toolUseIds: ["toolu_add"] });
    const rest = await stream.rest();
    expect(rest.map((e) => e.event)).toContain("approval_resolved");
    expect(rest.at(-1)?.data).toMatchObject({ status: "succeeded", output: "5." });
    const run = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    expect(run.body).toMatchObject({ status: "succeeded", pendingApproval: null, toolCalls: 1 });
    const rows = await withTenantDb(tenantId, (db) => db.select().from(toolExecutions));
    expect(rows.map((r) => [r.toolName, r.status, r.output])).toEqual([
      ["calculator", "succeeded", { result: 5 }],
    ]);
  });

  it("does not run a denied call; the model is told a reviewer refused it", async () => {
    const { token, tenant } = await createTenant();
    const tenantId = tenant.id;
    const agent = await createAgent(token, approvalAgent);
    const scenario = await scriptModel([
      addTwoAndThree,
      { message: { content: [{ type: "text", text: "OK." }] } },
    ]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("approval_pending");
    const deny = await api.post<ApprovalDecidedResponse>(`/v1/agent-runs/${runId}/deny`, {
      token,
      body: { toolUseId: "toolu_add", reason: "not today" },
    });
    expect(deny.status, JSON.stringify(deny.body)).toBe(200);
    const rest = await stream.rest();
    expect(rest.find((e) => e.event === "tool_call_finished")?.data).toMatchObject({ status: "denied" });
    expect(rest.at(-1)?.data).toMatchObject({ status: "succeeded" });
    const second = (await modelRequests(scenario))[1];
    expect(second?.body.messages.at(-1)?.content).toEqual([
      expect.objectContaining({ type: "tool_result", tool_use_id: "toolu_add", is_error: true }),
    ]);
    expect(JSON.stringify(second?.body.messages.at(-1)?.content)).toContain("not today");
    const rows = await withTenantDb(tenantId, (db) => db.select().from(toolExecutions));
    expect(rows.map((r) => r.status)).toEqual(["denied"]);
  });

  it("ends the run when nobody decides before the approval expires", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, approvalAgent);
    const scenario = await scriptModel([addTwoAndThree]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("approval_pending");
    const rest = await stream.rest();
    expect(rest.at(-1)?.data).toMatchObject({ status: "cancelled", stopReason: "approval_expired" });
    const late = await api.post<ProblemBody>(`/v1/agent-runs/${runId}/approve`, { token, body: {} });
    expect(late.status).toBe(409);

    // The call that was never run is answered, so the conversation goes on (the model server,
    // like the API, refuses a tool_use without its tool_result).
    const conversationId = stream.seen[0]?.data.conversationId as string;
    const next = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "never mind", conversationId },
    });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.run.status).toBe("succeeded");
    const sent = (await modelRequests(scenario)).at(-1)?.body.messages ?? [];
    expect(sent.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(JSON.stringify(sent[2]?.content)).toContain("before this call was approved");
  });

  it("refuses a decision for a run that is not waiting (409) or a call it does not have", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, approvalAgent);
    const scenario = await scriptModel([addTwoAndThree]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("approval_pending");
    await waitForRun(token, runId, (r) => r.status === "awaiting_approval");
    const wrong = await api.post<ProblemBody>(`/v1/agent-runs/${runId}/approve`, {
      token,
      body: { toolUseId: "toolu_other" },
    });
    expect(wrong.status).toBe(409);
    const bad = await api.post<ProblemBody>(`/v1/agent-runs/${runId}/approve`, { token, body: { extra: 1 } });
    expect(bad.status).toBe(400);
    await api.post(`/v1/agent-runs/${runId}/cancel`, { token });
    await stream.rest();
  });
});

describe("run control across tenants and limits", () => {
  it("hides a run's events, cancel and approvals from another tenant (404)", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const agent = await createAgent(a.token, approvalAgent);
    const scenario = await scriptModel([addTwoAndThree]);
    const stream = await executeStream(a.token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("approval_pending");
    for (const path of [`/v1/agent-runs/${runId}/cancel`, `/v1/agent-runs/${runId}/approve`]) {
      const res = await api.post<ProblemBody>(path, { token: b.token, body: {} });
      expect(res.status, path).toBe(404);
    }
    const events = await api.get<ProblemBody>(`/v1/agent-runs/${runId}/events`, { token: b.token });
    expect(events.status).toBe(404);
    const run = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token: a.token });
    expect(run.body.status).toBe("awaiting_approval");
    await api.post(`/v1/agent-runs/${runId}/cancel`, { token: a.token });
    await stream.rest();
  });

  it("refuses a second run in a conversation while one is in progress (409)", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, approvalAgent);
    const scenario = await scriptModel([addTwoAndThree]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    const started = (await stream.until("run_started"))[0];
    const conversationId = started?.data.conversationId as string;
    const second = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "again", conversationId },
    });
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain(runId);
    await api.post(`/v1/agent-runs/${runId}/cancel`, { token });
    await stream.rest();
  });

  it("refuses runs beyond the agent's maxConcurrentExecutions (429)", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, {
      ...approvalAgent,
      resourceLimits: { maxConcurrentExecutions: 1 },
    });
    const scenario = await scriptModel([addTwoAndThree]);
    const stream = await executeStream(token, agent.id, scenario);
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("approval_pending");
    const second = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "more" },
    });
    expect(second.status).toBe(429);
    expect(second.body.code).toBe("RATE_LIMITED");
    await api.post(`/v1/agent-runs/${runId}/cancel`, { token });
    await stream.rest();
    const third = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "now" },
    });
    expect(third.status).toBe(200);
  });

  it("caps each model call at maxTokens: the answer stops with max_tokens", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, { resourceLimits: { maxTokens: 5 } });
    const scenario = await scriptModel([]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Tell me a very long story about the sea and its ships" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({ status: "succeeded", stopReason: "max_tokens" });
    expect(res.body.run.outputTokens).toBeLessThanOrEqual(5);
    expect((await modelRequests(scenario))[0]?.body).toMatchObject({ max_tokens: 5 });
  });

  it("cuts a tool's result to maxToolOutputBytes before the model sees it", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, {
      tools: [{ name: "calculator", type: "builtin" }],
      resourceLimits: { maxToolOutputBytes: 4 },
    });
    const scenario = await scriptModel([addTwoAndThree]);
    const stream = await executeStream(token, agent.id, scenario);
    const events = await stream.rest();
    expect(events.find((e) => e.event === "tool_call_finished")?.data).toMatchObject({ truncated: true });
    const second = (await modelRequests(scenario))[1];
    const blocks = (second?.body.messages.at(-1)?.content ?? []) as { type: string; content: string }[];
    const result = blocks[0];
    expect(result).toMatchObject({ type: "tool_result", tool_use_id: "toolu_add" });
    expect(new TextEncoder().encode(result?.content).byteLength).toBeLessThanOrEqual(4);
  });

  it("ends a run at maxExecutionSeconds with that stop reason", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token, { resourceLimits: { maxExecutionSeconds: 1 } });
    const scenario = await scriptModel([{ delayMs: 4000 }]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "slow" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({ status: "succeeded", stopReason: "max_execution_time" });
  });

  it("attaches a retried request with the same Idempotency-Key to the first run", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([]);
    const send = () =>
      api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
        token,
        headers: { "x-model-scenario": scenario, "idempotency-key": "k1" },
        body: { message: "once" },
      });
    const [first, second] = await Promise.all([send(), send()]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.run.id).toBe(first.body.run.id);
    expect(second.body.messages.map((m) => m.id)).toEqual(first.body.messages.map((m) => m.id));
    expect(await modelRequests(scenario)).toHaveLength(1);
    for (const body of [{ message: "once", stream: true }, { message: "twice" }]) {
      const other = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
        token,
        headers: { "idempotency-key": "k1" },
        body,
      });
      expect(other.status, JSON.stringify(body)).toBe(422);
      expect(other.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    }
    // Neither duplicate left an empty conversation behind.
    const conversations = await api.get<{ data: unknown[] }>("/v1/conversations", { token });
    expect(conversations.body.data).toHaveLength(1);
  });
});
