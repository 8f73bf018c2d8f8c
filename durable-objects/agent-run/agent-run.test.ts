import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { scriptModel } from "../../test/harness/model";
import { openEvents } from "../../test/harness/sse";
import { runObject } from "../../workers/agents/run/object";
import { prepareRun } from "../../workers/agents/run/prepare";
import { parseConfig } from "../../workers/env";
import type { AgentRunResponse } from "../../workers/routes/agent-runs/schemas";
import type { AgentResponse } from "../../workers/routes/agents/schemas";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";

describe("AgentRun Durable Object", () => {
  it("records a run its restarted object no longer holds as failed (interrupted), never as running forever", async () => {
    const { token, tenant } = await createTenant();
    const agent = await api.post<AgentResponse>("/v1/agents", {
      token,
      body: { name: "slow", model: "claude-sonnet-4-6" },
    });
    // The model takes 30 s, so the run is mid-call when its object goes away.
    const scenario = await scriptModel([{ delayMs: 30_000 }]);
    const prepared = await withTenantDb(tenant.id, (db) =>
      prepareRun(db, parseConfig(env), {
        agentId: agent.body.id,
        message: "take your time",
        mode: "async",
        createdBy: null,
        actor: { kind: "platform_admin", id: "", role: "owner" },
        providerHeaders: { "x-model-scenario": scenario },
      }),
    );
    if (prepared.kind !== "new") throw new Error("expected a new run");
    const runId = prepared.run.id;
    const stub = runObject(env, prepared.run);
    expect(await stub.start(prepared.spec)).toEqual({ started: true });
    expect(await stub.start(prepared.spec)).toEqual({ started: false });
    // The object marks the run running as its engine starts, just after `start` returns.
    let running = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    for (let i = 0; i < 50 && running.body.status === "queued"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      running = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    }
    expect(running.body.status).toBe("running");

    // A crash or redeploy loses the run held in memory; the keep-alive alarm wakes the new instance.
    await abortAllDurableObjects();
    const restarted = runObject(env, prepared.run);
    expect(await runDurableObjectAlarm(restarted)).toBe(true);

    const run = await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token });
    expect(run.body).toMatchObject({ status: "failed", stopReason: "interrupted" });
    expect(run.body.error).toContain("restarted");
    const replay = await openEvents("GET", `/v1/agent-runs/${runId}/events`, { token });
    const events = await replay.rest();
    expect(events[0]?.event).toBe("run_started");
    expect(events.at(-1)?.data).toMatchObject({ status: "failed", stopReason: "interrupted" });
    expect(await restarted.result()).toMatchObject({ status: "failed", stopReason: "interrupted" });
    // Starting it again does not run it a second time.
    expect(await restarted.start(prepared.spec)).toEqual({ started: false });
  });
});
