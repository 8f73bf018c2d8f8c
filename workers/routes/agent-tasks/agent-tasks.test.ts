import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { agentRuns, agentTasks, webhookDeliveries } from "../../../db/schema";
import { handleJobs, JOBS_DLQ } from "../../../queues/jobs/consumer";
import type { JobMessage } from "../../../queues/jobs/message";
import type { ReceivedWebhook } from "../../../scripts/local-stack/webhook-sink";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { verifyWebhookSignature, type WebhookEnvelope } from "../../lib/webhooks";
import type { AgentResponse } from "../agents/schemas";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ListAgentTasksResponse } from "./list-agent-tasks";
import type { AgentTaskResponse } from "./schemas";

const SINK = (env as unknown as { WEBHOOK_SINK_URL: string }).WEBHOOK_SINK_URL;

async function received(path: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${SINK}/__received?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { received: ReceivedWebhook[] }).received;
}

async function createAgent(token: string): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "worker", model: "claude-sonnet-4-6" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function startTask(
  token: string,
  agentId: string,
  scenario: string,
  extra: Record<string, unknown> = {},
) {
  const res = await api.post<AgentTaskResponse>(`/v1/agents/${agentId}/execute`, {
    token,
    headers: { "x-model-scenario": scenario },
    body: { message: "Summarise the day", async: true, ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

/** Polls the task until it has ended; the real queue and consumer run it. */
async function waitForTask(token: string, id: string, timeoutMs = 15_000): Promise<AgentTaskResponse> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get<AgentTaskResponse>(`/v1/agent-tasks/${id}`, { token });
    if (["succeeded", "failed", "cancelled"].includes(res.body.status) || Date.now() > until) return res.body;
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function consume(queue: string, messages: JobMessage[]) {
  const batch = createMessageBatch<unknown>(
    queue,
    messages.map((body, i) => ({
      id: `m${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await handleJobs(batch, env);
  return getQueueResult(batch, ctx);
}

describe("async agent runs (agent tasks)", () => {
  it("answers 202 with a task, runs it through the queue, and sends a signed completion webhook", async () => {
    const { token, tenant } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([]);
    const path = `/tasks/${crypto.randomUUID()}`;
    const task = await startTask(token, agent.id, scenario, { callbackUrl: `${SINK}${path}` });
    expect(task).toMatchObject({
      status: "pending",
      agentId: agent.id,
      input: { message: "Summarise the day" },
    });
    expect(task.runId).not.toBeNull();

    const done = await waitForTask(token, task.id);
    expect(done).toMatchObject({ status: "succeeded", error: null, attempts: 1 });
    expect(done.output).toMatchObject({
      runId: task.runId,
      stopReason: "end_turn",
      usage: { modelCalls: 1, toolCalls: 0 },
    });
    const run = await api.get<{ mode: string; status: string; taskId: string }>(
      `/v1/agent-runs/${task.runId}`,
      {
        token,
      },
    );
    expect(run.body).toMatchObject({ mode: "async", status: "succeeded", taskId: task.id });

    const hooks = await waitFor(
      () => received(path),
      (r) => r.length > 0,
    );
    expect(hooks).toHaveLength(1);
    const hook = hooks[0] as ReceivedWebhook;
    const body = JSON.parse(hook.body) as WebhookEnvelope;
    expect(body).toMatchObject({
      id: `agent_task.completed:${task.id}`,
      type: "agent_task.completed",
      data: { taskId: task.id, status: "succeeded", runId: task.runId },
    });
    const secret = await api.get<{ secret: string }>("/v1/webhooks/signing-secret", { token });
    const signature = hook.headers["meridian-signature"] ?? "";
    expect(await verifyWebhookSignature([secret.body.secret], signature, hook.body)).toBe(true);

    // A redelivered message for the finished task runs nothing and sends nothing.
    const message: JobMessage = { type: "agent_task", tenantId: tenant.id, taskId: task.id };
    const result = await consume("meridian-jobs", [message, message]);
    expect(result.explicitAcks.length).toBe(2);
    expect(await modelRequests(scenario)).toHaveLength(1);
    const deliveries = await withTenantDb(tenant.id, (db) => db.select().from(webhookDeliveries));
    expect(deliveries).toHaveLength(1);
  });

  it("runs a task once when its message is delivered twice at the same time", async () => {
    const { token, tenant } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([{ delayMs: 300 }]);
    const task = await startTask(token, agent.id, scenario);
    const message: JobMessage = { type: "agent_task", tenantId: tenant.id, taskId: task.id };
    await consume("meridian-jobs", [message, message]);
    const done = await waitForTask(token, task.id);
    expect(done.status).toBe("succeeded");
    expect(await modelRequests(scenario)).toHaveLength(1);
  });

  it("cancels a running task: its run stops, the task ends cancelled and the webhook says so", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([{ delayMs: 8000 }]);
    const path = `/tasks/${crypto.randomUUID()}`;
    const task = await startTask(token, agent.id, scenario, { callbackUrl: `${SINK}${path}` });
    await waitFor(
      () => api.get<AgentTaskResponse>(`/v1/agent-tasks/${task.id}`, { token }),
      (r) => r.body.status === "running",
    );
    await waitFor(
      () => modelRequests(scenario),
      (r) => r.length > 0,
    );
    const cancel = await api.post<AgentTaskResponse>(`/v1/agent-tasks/${task.id}/cancel`, { token });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
    const done = await waitForTask(token, task.id);
    expect(done.status).toBe("cancelled");
    const hooks = await waitFor(
      () => received(path),
      (r) => r.length > 0,
    );
    expect(JSON.parse(hooks[0]?.body ?? "{}")).toMatchObject({ type: "agent_task.cancelled" });
    const again = await api.post<ProblemBody>(`/v1/agent-tasks/${task.id}/cancel`, { token });
    expect(again.status).toBe(409);
  });

  it("marks a task whose message went to the dead-letter queue failed, keeping its last error", async () => {
    const { token, tenant } = await createTenant();
    const agent = await createAgent(token);
    const task = await withTenantDb(tenant.id, async (db) => {
      const [row] = await db
        .insert(agentTasks)
        .values({ tenantId: tenant.id, agentId: agent.id, status: "running", error: "provider unreachable" })
        .returning();
      return row;
    });
    if (!task) throw new Error("no task");
    const message: JobMessage = { type: "agent_task", tenantId: tenant.id, taskId: task.id };
    const result = await consume(JOBS_DLQ, [message]);
    expect(result.explicitAcks.length).toBe(1);
    const dead = await api.get<AgentTaskResponse>(`/v1/agent-tasks/${task.id}`, { token });
    expect(dead.body.status).toBe("failed");
    expect(dead.body.error).toContain("dead-letter");
    expect(dead.body.error).toContain("provider unreachable");
  });

  it("keeps tasks behind the tenant wall", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const agent = await createAgent(a.token);
    const task = await startTask(a.token, agent.id, await scriptModel([]));
    await waitForTask(a.token, task.id);
    expect((await api.get(`/v1/agent-tasks/${task.id}`, { token: b.token })).status).toBe(404);
    expect((await api.post(`/v1/agent-tasks/${task.id}/cancel`, { token: b.token })).status).toBe(404);
    const list = await api.get<ListAgentTasksResponse>("/v1/agent-tasks", { token: b.token });
    expect(list.body.data).toEqual([]);
    const own = await api.get<ListAgentTasksResponse>(`/v1/agent-tasks?agentId=${agent.id}`, {
      token: a.token,
    });
    expect(own.body.data.map((t) => t.id)).toEqual([task.id]);
    const rows = await withTenantDb(b.tenant.id, (db) =>
      db.select().from(agentRuns).where(eq(agentRuns.taskId, task.id)),
    );
    expect(rows).toEqual([]);
  });

  it("validates async requests: no stream with async, callbackUrl only with async, no credentials in it", async () => {
    const { token } = await createTenant();
    const agent = await createAgent(token);
    const both = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "x", async: true, stream: true },
    });
    expect(both.status).toBe(400);
    const lonely = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "x", callbackUrl: "https://example.com/hook" },
    });
    expect(lonely.status).toBe(400);
    const withCredentials = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "x", async: true, callbackUrl: "https://user:secret@example.com/hook" },
    });
    expect(withCredentials.status).toBe(422);
    const tasks = await api.get<ListAgentTasksResponse>("/v1/agent-tasks", { token });
    expect(tasks.body.data).toEqual([]);
  });
});
