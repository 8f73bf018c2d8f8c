import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, test } from "vitest";
import { api } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { scriptModel } from "../../../test/harness/model";
import { runObject } from "../../../workers/agents/run/object";
import { parseConfig } from "../../../workers/env";
import type { AgentRunResponse } from "../../../workers/routes/agent-runs/schemas";
import type { AgentResponse } from "../../../workers/routes/agents/schemas";
import { withTenantDb } from "../../../workers/routes/conversations/test-fixtures";
import type { McpToolContext } from "../../server/types";
import { awaitRun, prepareSyncRun, readRun } from "./runs";
import { runAgent } from "./tools/run-agent";

beforeAll(async () => {
  await createTenant();
});

/** A tenant, one of its agents, and a tool context for its owner outside any transaction. */
async function setUp(signal: AbortSignal) {
  const { tenant, owner, token } = await createTenant();
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "slow", model: "claude-sonnet-4-6" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const ctx = (db: McpToolContext["db"]): McpToolContext => ({
    tenantId: tenant.id,
    principal: {
      kind: "user",
      tenantId: tenant.id,
      userId: owner.id,
      role: "member",
      sessionId: "",
      jti: "",
      expiresAt: 0,
    },
    db,
    config: parseConfig(env),
    env,
    signal,
  });
  return { tenantId: tenant.id, token, agentId: res.body.id, ctx };
}

async function runStatus(token: string, runId: string): Promise<AgentRunResponse> {
  const res = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
  expect(res.status).toBe(200);
  return res.body;
}

describe("runs started from a built-in tool", () => {
  test("the run is committed before its object starts, so it is readable from elsewhere at once", async () => {
    const { token, agentId, tenantId, ctx } = await setUp(new AbortController().signal);
    const scenario = await scriptModel([{ delayMs: 5_000 }]);
    await withTenantDb(tenantId, async (db) => {
      const { run, spec } = await prepareSyncRun(ctx(db), {
        agentId,
        message: "take your time",
        providerHeaders: { "x-model-scenario": scenario },
      });
      // Seen by another connection while the caller's own transaction is still open.
      expect(await runStatus(token, run.id)).toMatchObject({ status: "running", mode: "sync" });
      await runObject(env, run).start(spec);
      // A run longer than the wait comes back unfinished, for get_run to follow.
      expect(await awaitRun(ctx(db), run, 100)).toBe(false);
      expect(await readRun(db, run.id)).toMatchObject({ runId: run.id, status: "running", output: "" });
      await runObject(env, run).cancel();
    });
  });

  test("an aborted MCP call cancels its run", async () => {
    const controller = new AbortController();
    const { token, agentId, tenantId, ctx } = await setUp(controller.signal);
    const scenario = await scriptModel([{ delayMs: 10_000 }]);
    const runId = await withTenantDb(tenantId, async (db) => {
      const { run, spec } = await prepareSyncRun(ctx(db), {
        agentId,
        message: "never mind",
        providerHeaders: { "x-model-scenario": scenario },
      });
      await runObject(env, run).start(spec);
      setTimeout(() => controller.abort(), 100);
      await expect(awaitRun(ctx(db), run, 15_000)).rejects.toMatchObject({ reason: "cancelled" });
      return run.id;
    });
    await expect
      .poll(async () => (await runStatus(token, runId)).status, { timeout: 5_000, interval: 100 })
      .toBe("cancelled");
    expect(await runStatus(token, runId)).toMatchObject({ stopReason: "client_disconnected" });
  });

  test("run_agent called from an agent run counts as a delegation: one level deeper, refused past the limit", async () => {
    const { token, agentId, tenantId, ctx } = await setUp(new AbortController().signal);
    await withTenantDb(tenantId, async (db) => {
      await expect(
        runAgent.run({ agentId, message: "too deep" }, { ...ctx(db), delegationDepth: 3 }),
      ).rejects.toMatchObject({ reason: "delegation_too_deep" });
      const { run, spec } = await prepareSyncRun(ctx(db), { agentId, message: "deep", delegationDepth: 3 });
      expect(spec).toMatchObject({ runId: run.id, delegationDepth: 3 });
    });
    const runs = await api.get<{ data: { id: string }[] }>(`/v1/agent-runs?agentId=${agentId}`, { token });
    expect(runs.body.data).toHaveLength(1);
  });
});
