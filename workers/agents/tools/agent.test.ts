import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { agentMessages, agentTasks, auditLogs } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { parseConfig } from "../../env";
import { newId } from "../../lib/ids";
import type { ListAgentMessagesResponse } from "../../routes/agent-messages/list-agent-messages";
import type { ListAgentRunsResponse } from "../../routes/agent-runs/list-agent-runs";
import type { AgentRunResponse } from "../../routes/agent-runs/schemas";
import type { ListAgentTasksResponse } from "../../routes/agent-tasks/list-agent-tasks";
import type { AgentTaskResponse } from "../../routes/agent-tasks/schemas";
import type { ExecuteAgentResponse } from "../../routes/agents/execute-agent";
import type { AgentResponse } from "../../routes/agents/schemas";
import type { GetConversationResponse } from "../../routes/conversations/get-conversation";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { closeDelegation, openDelegation } from "../run/delegation";
import { runObject } from "../run/object";
import type { RunSpec } from "../run/spec";

async function createAgent(token: string, body: Record<string, unknown>): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { model: "claude-sonnet-4-6", ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function delegateTo(name: string, agentId: string) {
  return { name, type: "agent", config: { agentId } };
}

function toolCalls(...calls: [id: string, name: string, message: string][]) {
  return {
    message: {
      content: calls.map(([id, name, message]) => ({ type: "tool_use", id, name, input: { message } })),
    },
  };
}

function answer(text: string) {
  return { message: { content: [{ type: "text", text }] } };
}

interface ToolResult {
  type: string;
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

function lastToolResults(request: { body: { messages: { content: unknown }[] } } | undefined): ToolResult[] {
  return (request?.body.messages.at(-1)?.content ?? []) as ToolResult[];
}

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe("agent tools (the supervisor pattern)", () => {
  it("runs each worker agent the model asks, hands back their answers and records the delegations", async () => {
    const { token, tenant, owner } = await createTenant();
    const researcher = await createAgent(token, { name: "researcher", systemPrompt: "You find facts." });
    const writer = await createAgent(token, { name: "writer", systemPrompt: "You write replies." });
    const supervisor = await createAgent(token, {
      name: "supervisor",
      tools: [
        delegateTo("ask_researcher", researcher.id),
        { ...delegateTo("ask_writer", writer.id), description: "The writer drafts customer replies." },
      ],
    });

    const scenario = await scriptModel([
      toolCalls(
        ["toolu_research", "ask_researcher", "How long do refunds take?"],
        ["toolu_write", "ask_writer", "Draft a reply about a refund."],
      ),
      answer("Refunds take 30 days."),
      answer("Dear customer, your refund is on its way."),
      answer("Refunds take 30 days; here is a reply: Dear customer, your refund is on its way."),
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${supervisor.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Answer the refund ticket." },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({ status: "succeeded", toolCalls: 2, modelCalls: 2 });
    expect(res.body.output).toContain("here is a reply");

    // The supervisor's first call, the researcher's, the writer's, the supervisor's second.
    const requests = await modelRequests(scenario);
    expect(requests).toHaveLength(4);
    const [first, toResearcher, toWriter, last] = requests;
    const offered = first?.body.tools as { name: string; description: string; input_schema: unknown }[];
    expect(offered.map((t) => t.name)).toEqual(["ask_researcher", "ask_writer"]);
    expect(offered[1]?.description).toBe("The writer drafts customer replies.");
    expect(offered[0]?.input_schema).toMatchObject({
      type: "object",
      properties: { message: { type: "string" } },
      required: ["message"],
    });
    expect(toResearcher?.body.system).toBe("You find facts.");
    expect(toResearcher?.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "How long do refunds take?" }] },
    ]);
    expect(toWriter?.body.system).toBe("You write replies.");
    expect(lastToolResults(last)).toEqual([
      { type: "tool_result", tool_use_id: "toolu_research", content: "Refunds take 30 days." },
      {
        type: "tool_result",
        tool_use_id: "toolu_write",
        content: "Dear customer, your refund is on its way.",
      },
    ]);

    // One task per delegation, settled from the worker's run, as the supervisor's run had no task.
    const tasks = await api.get<ListAgentTasksResponse>("/v1/agent-tasks", { token });
    expect(tasks.body.data).toHaveLength(2);
    const byAgent = new Map(tasks.body.data.map((t) => [t.agentId, t]));
    for (const [worker, message, output] of [
      [researcher, "How long do refunds take?", "Refunds take 30 days."],
      [writer, "Draft a reply about a refund.", "Dear customer, your refund is on its way."],
    ] as const) {
      const task = byAgent.get(worker.id) as AgentTaskResponse;
      expect(task).toMatchObject({
        status: "succeeded",
        parentTaskId: null,
        executionId: null,
        input: { message },
        error: null,
        callbackUrl: null,
      });
      const run = await api.get<AgentRunResponse>(`/v1/agent-runs/${task.runId}`, { token });
      expect(run.body).toMatchObject({
        agentId: worker.id,
        status: "succeeded",
        mode: "sync",
        taskId: task.id,
        stopReason: "end_turn",
        modelCalls: 1,
        toolCalls: 0,
      });
      expect(run.body.inputTokens).toBeGreaterThan(0);
      expect(run.body.outputTokens).toBeGreaterThan(0);
      expect(task.output).toMatchObject({
        runId: run.body.id,
        conversationId: run.body.conversationId,
        usage: { inputTokens: run.body.inputTokens, outputTokens: run.body.outputTokens, modelCalls: 1 },
      });
      // The worker's own conversation: the supervisor's message and the worker's answer, nothing else.
      const conversation = await api.get<GetConversationResponse>(
        `/v1/conversations/${run.body.conversationId}`,
        { token },
      );
      expect(conversation.body.agentId).toBe(worker.id);
      expect(conversation.body.messages.map((m) => [m.role, m.content])).toEqual([
        ["user", [{ type: "text", text: message }]],
        ["assistant", [{ type: "text", text: output }]],
      ]);

      const messages = await api.get<ListAgentMessagesResponse>(`/v1/agent-messages?taskId=${task.id}`, {
        token,
      });
      expect(
        messages.body.data.map((m) => [m.messageType, m.senderAgentId, m.recipientAgentId, m.content]),
      ).toEqual([
        ["response", worker.id, supervisor.id, { output }],
        ["request", supervisor.id, worker.id, { message }],
      ]);
    }
    // The supervisor's run counts its own model calls only.
    const workerRuns = await api.get<ListAgentRunsResponse>(`/v1/agent-runs?agentId=${researcher.id}`, {
      token,
    });
    expect(workerRuns.body.data).toHaveLength(1);
    const ownInput = res.body.messages.reduce((sum, m) => sum + (m.inputTokens ?? 0), 0);
    expect(res.body.run.inputTokens).toBe(ownInput);

    // Each worker run is audited as started by the supervisor run's caller.
    const audits = await withTenantDb(tenant.id, (db) =>
      db.select().from(auditLogs).where(eq(auditLogs.action, "agent.execute")),
    );
    const delegated = audits.filter((a) => (a.changes as { via?: string }).via === "agent_tool");
    expect(delegated).toHaveLength(2);
    expect(delegated[0]).toMatchObject({ actorType: "user", actorId: owner.id });
    expect(delegated[0]?.changes).toMatchObject({ parentRunId: res.body.run.id });
  });

  it("gives the model a worker's failure as a tool error", async () => {
    const { token } = await createTenant();
    const worker = await createAgent(token, { name: "flaky" });
    const supervisor = await createAgent(token, { name: "boss", tools: [delegateTo("ask", worker.id)] });
    const scenario = await scriptModel([
      toolCalls(["toolu_1", "ask", "Do the thing."]),
      { error: { status: 400, type: "invalid_request_error", message: "prompt is too long" } },
      answer("The worker failed."),
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${supervisor.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Go." },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [result] = lastToolResults((await modelRequests(scenario))[2]);
    expect(result?.is_error).toBe(true);
    expect(JSON.parse(result?.content ?? "{}").error).toMatch(
      /did not succeed: UNPROCESSABLE: .*prompt is too long/,
    );
    const tasks = await api.get<ListAgentTasksResponse>("/v1/agent-tasks", { token });
    expect(tasks.body.data[0]).toMatchObject({ status: "failed", agentId: worker.id });
    const messages = await api.get<ListAgentMessagesResponse>("/v1/agent-messages?messageType=response", {
      token,
    });
    expect(messages.body.data).toHaveLength(1);
    expect(messages.body.data[0]?.content).toMatchObject({ error: expect.stringContaining("UNPROCESSABLE") });
  });

  it("stops a delegation chain deeper than three agents with an error the model sees, and links the tasks", async () => {
    const { token } = await createTenant();
    const fifth = await createAgent(token, { name: "level-4" });
    const fourth = await createAgent(token, { name: "level-3", tools: [delegateTo("delegate", fifth.id)] });
    const third = await createAgent(token, { name: "level-2", tools: [delegateTo("delegate", fourth.id)] });
    const second = await createAgent(token, { name: "level-1", tools: [delegateTo("delegate", third.id)] });
    const first = await createAgent(token, { name: "level-0", tools: [delegateTo("delegate", second.id)] });

    const scenario = await scriptModel([
      toolCalls(["toolu_d1", "delegate", "one"]),
      toolCalls(["toolu_d2", "delegate", "two"]),
      toolCalls(["toolu_d3", "delegate", "three"]),
      toolCalls(["toolu_d4", "delegate", "four"]),
      answer("level 3 could not delegate"),
      answer("level 2 done"),
      answer("level 1 done"),
      answer("level 0 done"),
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${first.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "zero" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.output).toBe("level 0 done");

    const requests = await modelRequests(scenario);
    expect(requests).toHaveLength(8);
    const [refused] = lastToolResults(requests[4]);
    expect(refused).toMatchObject({ tool_use_id: "toolu_d4", is_error: true });
    expect(JSON.parse(refused?.content ?? "{}").error).toMatch(/delegation depth limit reached.*at most 3/);
    expect(lastToolResults(requests[5])[0]).toMatchObject({
      tool_use_id: "toolu_d3",
      content: "level 3 could not delegate",
    });
    const neverRun = await api.get<ListAgentRunsResponse>(`/v1/agent-runs?agentId=${fifth.id}`, { token });
    expect(neverRun.body.data).toEqual([]);

    // Each worker's task names the task of the run that handed it down.
    const tasks = await api.get<ListAgentTasksResponse>("/v1/agent-tasks", { token });
    const taskOf = (agentId: string) => tasks.body.data.find((t) => t.agentId === agentId);
    expect(tasks.body.data).toHaveLength(3);
    expect(taskOf(second.id)?.parentTaskId).toBeNull();
    expect(taskOf(third.id)?.parentTaskId).toBe(taskOf(second.id)?.id);
    expect(taskOf(fourth.id)?.parentTaskId).toBe(taskOf(third.id)?.id);
    expect(tasks.body.data.every((t) => t.status === "succeeded")).toBe(true);
  });

  it("cancels the worker's run with the supervisor's, and settles its task and response", async () => {
    const { token } = await createTenant();
    const worker = await createAgent(token, { name: "slow" });
    const supervisor = await createAgent(token, { name: "boss", tools: [delegateTo("ask", worker.id)] });
    const scenario = await scriptModel([
      toolCalls(["toolu_slow", "ask", "Take your time."]),
      { delayMs: 8000 },
    ]);
    const started = await api.post<AgentTaskResponse>(`/v1/agents/${supervisor.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Go.", async: true },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    // The worker's model call is under way.
    await waitFor(
      () => modelRequests(scenario),
      (r) => r.length >= 2,
    );
    const cancel = await api.post(`/v1/agent-tasks/${started.body.id}/cancel`, { token });
    expect(cancel.status).toBe(202);

    const workerTask = await waitFor(
      async () =>
        (await api.get<ListAgentTasksResponse>(`/v1/agent-tasks?agentId=${worker.id}`, { token })).body
          .data[0],
      (t) => t?.status === "cancelled",
    );
    // An async supervisor has a task: the worker's task hangs under it.
    expect(workerTask).toMatchObject({ status: "cancelled", parentTaskId: started.body.id });
    const workerRun = await api.get<AgentRunResponse>(`/v1/agent-runs/${workerTask?.runId}`, { token });
    expect(workerRun.body).toMatchObject({ status: "cancelled", stopReason: "cancelled" });
    const supervisorTask = await waitFor(
      async () => (await api.get<AgentTaskResponse>(`/v1/agent-tasks/${started.body.id}`, { token })).body,
      (t) => t.status === "cancelled",
    );
    expect(supervisorTask.status).toBe("cancelled");
    const response = await api.get<ListAgentMessagesResponse>(
      `/v1/agent-messages?taskId=${workerTask?.id}&messageType=response`,
      { token },
    );
    expect(response.body.data[0]?.content).toMatchObject({ error: expect.stringContaining("cancelled") });
    expect(await modelRequests(scenario)).toHaveLength(2);
  });

  it("starts one worker run per tool call, however often the call is retried", async () => {
    const { token, tenant, owner } = await createTenant();
    const worker = await createAgent(token, { name: "worker" });
    const supervisor = await createAgent(token, { name: "boss", tools: [delegateTo("ask", worker.id)] });
    const scenario = await scriptModel([answer("Done once.")]);
    const config = parseConfig(env);
    const parent: Pick<RunSpec, "runId" | "agentId" | "actor" | "providerHeaders" | "delegationDepth"> = {
      runId: newId(),
      agentId: supervisor.id,
      actor: { kind: "user", id: owner.id, role: "owner" },
      providerHeaders: { "x-model-scenario": scenario },
      delegationDepth: 0,
    };
    const request = { parent, toolUseId: "toolu_retried", agentId: worker.id, message: "Once, please." };

    const first = await withTenantDb(tenant.id, (db) => openDelegation(db, config, request));
    // A redelivery before the first attempt started the object: the same run, still to run.
    const again = await withTenantDb(tenant.id, (db) => openDelegation(db, config, request));
    expect(again.run.id).toBe(first.run.id);
    expect(again.task.id).toBe(first.task.id);
    expect(again.spec).toMatchObject({ runId: first.run.id, delegationDepth: 1 });
    const object = runObject(env, first.run);
    if (!first.spec || !again.spec) throw new Error("expected specs for an unfinished run");
    expect(await object.start(first.spec)).toEqual({ started: true });
    expect(await object.start(again.spec)).toEqual({ started: false });
    expect(await object.result()).toMatchObject({ status: "succeeded", output: "Done once." });

    for (let i = 0; i < 2; i++) {
      const closed = await withTenantDb(tenant.id, (db) =>
        closeDelegation(db, env.JOBS, config, first, supervisor.id),
      );
      expect(closed).toMatchObject({ output: "Done once.", failure: null });
    }
    // After it ended, a retry finds the finished run and starts nothing.
    const late = await withTenantDb(tenant.id, (db) => openDelegation(db, config, request));
    expect(late.run.id).toBe(first.run.id);
    expect(late.spec).toBeNull();

    const rows = await withTenantDb(tenant.id, async (db) => ({
      tasks: await db.select().from(agentTasks).where(eq(agentTasks.agentId, worker.id)),
      messages: await db.select().from(agentMessages).where(eq(agentMessages.taskId, first.task.id)),
    }));
    expect(rows.tasks).toHaveLength(1);
    expect(rows.messages.map((m) => m.messageType).sort()).toEqual(["request", "response"]);
    expect(await modelRequests(scenario)).toHaveLength(1);
  });

  it("refuses agent tools naming an unknown agent, the agent itself or a missing version (422)", async () => {
    const { token } = await createTenant();
    const worker = await createAgent(token, { name: "worker" });
    const cases: [tools: unknown[], path: string][] = [
      [[delegateTo("ask", newId())], "tools.0.config.agentId"],
      [[{ name: "ask", type: "agent", config: {} }], "tools.0.config.agentId"],
      [[{ name: "ask", type: "agent", config: { agentId: worker.id, extra: 1 } }], "tools.0.config"],
      [
        [{ name: "ask", type: "agent", config: { agentId: worker.id, agentVersion: 7 } }],
        "tools.0.config.agentVersion",
      ],
    ];
    for (const [tools, path] of cases) {
      const res = await api.post<ProblemBody>("/v1/agents", {
        token,
        body: { name: "bad", model: "claude-sonnet-4-6", tools },
      });
      expect(res.status, JSON.stringify(tools)).toBe(422);
      expect(res.body.errors?.[0]?.path).toBe(path);
    }
    const self = await api.patch<ProblemBody>(`/v1/agents/${worker.id}`, {
      token,
      body: { tools: [delegateTo("ask_myself", worker.id)] },
    });
    expect(self.status).toBe(422);
    expect(self.body.errors).toEqual([
      { path: "tools.0.config.agentId", message: "an agent cannot delegate to itself" },
    ]);
    const pinned = await api.post<AgentResponse>("/v1/agents", {
      token,
      body: {
        name: "pinned",
        model: "claude-sonnet-4-6",
        tools: [{ name: "ask", type: "agent", config: { agentId: worker.id, agentVersion: 1 } }],
      },
    });
    expect(pinned.status, JSON.stringify(pinned.body)).toBe(201);
  });

  it("runs the pinned version of a worker agent", async () => {
    const { token } = await createTenant();
    const worker = await createAgent(token, { name: "worker", systemPrompt: "Version one." });
    const changed = await api.patch<AgentResponse>(`/v1/agents/${worker.id}`, {
      token,
      body: { systemPrompt: "Version two." },
    });
    expect(changed.body.version).toBe(2);
    const supervisor = await createAgent(token, {
      name: "boss",
      tools: [{ name: "ask", type: "agent", config: { agentId: worker.id, agentVersion: 1 } }],
    });
    const scenario = await scriptModel([
      toolCalls(["toolu_v1", "ask", "Which version?"]),
      answer("one"),
      answer("ok"),
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${supervisor.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Ask." },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await modelRequests(scenario))[1]?.body.system).toBe("Version one.");
    const runs = await api.get<ListAgentRunsResponse>(`/v1/agent-runs?agentId=${worker.id}`, { token });
    expect(runs.body.data[0]?.agentVersion).toBe(1);
  });

  it("cannot name another tenant's agent as a tool (422)", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const theirs = await createAgent(a.token, { name: "secret-worker" });
    const res = await api.post<ProblemBody>("/v1/agents", {
      token: b.token,
      body: { name: "thief", model: "claude-sonnet-4-6", tools: [delegateTo("steal", theirs.id)] },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]).toMatchObject({ path: "tools.0.config.agentId" });
  });
});
