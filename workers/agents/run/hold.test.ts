import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { budgetReservations } from "../../../db/schema";
import { usageEvents } from "../../../db/schema/usage";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { scriptModel } from "../../../test/harness/model";
import { eventually } from "../../../test/harness/observability";
import { parseConfig } from "../../env";
import { periodState } from "../../quotas/budget";
import type { AgentTaskResponse } from "../../routes/agent-tasks/schemas";
import type { ExecuteAgentResponse } from "../../routes/agents/execute-agent";
import type { AgentResponse } from "../../routes/agents/schemas";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { runObject } from "./object";
import { prepareRun } from "./prepare";

const calculator = [{ name: "calculator", type: "builtin" }];

async function createAgent(token: string, extra: Record<string, unknown> = {}): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "held", model: "claude-sonnet-4-6", resourceLimits: { maxTokens: 200 }, ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function toolUse(input: Record<string, unknown>) {
  return { message: { content: [{ type: "tool_use", name: "calculator", input }], stop_reason: "tool_use" } };
}

/** Once a run has ended: no hold is left, and the month's spend is what its usage events add up to. */
async function expectAllSettled(tenantId: string): Promise<void> {
  const { state, holds, events } = await withTenantDb(tenantId, async (db) => ({
    state: await periodState(db),
    holds: await db.select().from(budgetReservations),
    events: await db.select().from(usageEvents),
  }));
  expect(holds).toEqual([]);
  expect(state).toMatchObject({ reservedTokens: 0, reservedMicroUsd: 0 });
  expect(state.spentMicroUsd).toBe(events.reduce((sum, e) => sum + e.costMicroUsd, 0));
}

describe("budget holds of an agent run", () => {
  it("prepareRun takes the first call's hold with the run's rows; the run's object claims and settles it", async () => {
    const { tenant, token } = await createTenant({ limits: { monthlyTokenBudget: 100_000 } });
    const agent = await createAgent(token);
    const prepare = (mode: "sync" | "async") =>
      withTenantDb(tenant.id, (db) =>
        prepareRun(db, parseConfig(env), {
          agentId: agent.id,
          message: "Hello there",
          mode,
          createdBy: null,
          actor: { kind: "platform_admin", id: "", role: "owner" },
        }),
      );
    const prepared = await prepare("sync");
    if (prepared.kind !== "new") throw new Error("expected a new run");
    const first = prepared.spec.firstHold;
    expect(first?.id).toEqual(expect.any(String));
    const holds = await withTenantDb(tenant.id, (db) => db.select().from(budgetReservations));
    expect(holds).toEqual([
      expect.objectContaining({ id: first?.id, runId: prepared.run.id, tokens: first?.tokens }),
    ]);

    const object = runObject(env, prepared.run);
    await object.start(prepared.spec);
    expect(await object.result()).toMatchObject({ status: "succeeded" });
    await expectAllSettled(tenant.id);

    // An async run may wait in a queue: it holds when it starts, not when it is stored.
    const queued = await prepare("async");
    expect(queued.kind === "new" && queued.spec.firstHold).toBeUndefined();
    expect(await withTenantDb(tenant.id, (db) => db.select().from(budgetReservations))).toEqual([]);
  });

  it("a first hold that does not fit is stored as refused, and the run ends budget_exhausted (402)", async () => {
    // Nothing spent, so the run is not refused up front; its first call (200 tokens of output
    // and the prompt) needs more than the whole budget.
    const { tenant, token } = await createTenant({ limits: { monthlyTokenBudget: 150 } });
    const agent = await createAgent(token);
    const res = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      body: { message: "Hello there" },
    });
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ code: "PAYMENT_REQUIRED" });
    const run = await api.get<{ status: string; stopReason: string; modelCalls: number }>(
      `/v1/agent-runs/${res.headers.get("x-run-id")}`,
      { token },
    );
    expect(run.body).toMatchObject({ status: "failed", stopReason: "budget_exhausted", modelCalls: 0 });
    await expectAllSettled(tenant.id);
  });

  it("a tool run's later calls hold with the tool results, and every hold is settled", async () => {
    const { tenant, token } = await createTenant({ limits: { monthlyTokenBudget: 1_000_000 } });
    const agent = await createAgent(token, { tools: calculator });
    const scenario = await scriptModel([
      toolUse({ operation: "add", a: 2, b: 3 }),
      toolUse({ operation: "add", a: 5, b: 5 }),
      { message: { content: [{ type: "text", text: "10." }] } },
    ]);
    const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Add them up" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.run).toMatchObject({ status: "succeeded", modelCalls: 3, toolCalls: 2 });
    await expectAllSettled(tenant.id);
  });

  it("a next call whose hold no longer fits ends the run after the tool round that stored it", async () => {
    // The first call holds its 200 output tokens and a short prompt; the second one's prompt
    // carries the first's long tool call, so its hold is far past what is left.
    const { tenant, token } = await createTenant({ limits: { monthlyTokenBudget: 800 } });
    const agent = await createAgent(token, { tools: calculator });
    const scenario = await scriptModel([toolUse({ operation: "add", a: 1, b: 1, note: "x".repeat(3000) })]);
    const res = await api.post<ProblemBody>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Add one and one" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(402);
    const run = await api.get<{ status: string; stopReason: string; modelCalls: number; toolCalls: number }>(
      `/v1/agent-runs/${res.headers.get("x-run-id")}`,
      { token },
    );
    expect(run.body).toMatchObject({
      status: "failed",
      stopReason: "budget_exhausted",
      modelCalls: 1,
      toolCalls: 1,
    });
    await expectAllSettled(tenant.id);
  });

  it("an async run holds when it starts, and settles like any other", async () => {
    const { tenant, token } = await createTenant({ limits: { monthlyCostBudgetMicroUsd: 10_000_000 } });
    const agent = await createAgent(token, { tools: calculator, resourceLimits: { maxToolIterations: 1 } });
    const scenario = await scriptModel([toolUse({ operation: "add", a: 2, b: 2 })]);
    const started = await api.post<AgentTaskResponse>(`/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Add two and two", async: true },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const task = await eventually(
      async () => (await api.get<AgentTaskResponse>(`/v1/agent-tasks/${started.body.id}`, { token })).body,
      (t) => ["succeeded", "failed", "cancelled"].includes(t.status),
    );
    expect(task.status).toBe("succeeded");
    await expectAllSettled(tenant.id);
  });
});
