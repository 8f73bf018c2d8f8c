import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import {
  attemptsOf,
  createWorkflow,
  execute,
  SINK,
  sinkPath,
  sinkReceived,
  waitFor,
} from "../../workers/routes/workflow-executions/test-fixtures";

/** A crash: the object is reset at once, whatever it was doing (in-flight calls included). */
async function crash(object: ReturnType<typeof objectOf>): Promise<void> {
  await runInDurableObject(object, (_instance, state) => state.abort("simulated crash")).catch(
    () => undefined,
  );
}

function objectOf(tenantId: string, executionId: string) {
  return env.WORKFLOW_EXECUTION.get(env.WORKFLOW_EXECUTION.idFromName(`${tenantId}:${executionId}`));
}

describe("WorkflowExecution: surviving restarts", () => {
  it("restarted between steps, runs none of the finished steps again", async () => {
    const { token, tenant } = await createTenant();
    const before = await sinkPath();
    const after = await sinkPath();
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "before", type: "http", url: `${SINK}${before}` },
        { id: "gate", type: "wait_for_approval" },
        { id: "after", type: "http", url: `${SINK}${after}` },
      ],
    });
    const started = await execute(token, workflow.id);
    await waitFor(token, started.id, ["waiting"]);

    await crash(objectOf(tenant.id, started.id));
    const resumed = await api.post(`/v1/workflow-executions/${started.id}/steps/gate/resume`, {
      token,
      body: { payload: { ok: true } },
    });
    expect(resumed.status).toBe(200);
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect((await sinkReceived(before)).length).toBe(1);
    expect((await sinkReceived(after)).length).toBe(1);
    expect(run.steps.map((s) => [s.stepId, s.attempt, s.status])).toEqual([
      ["before", 1, "succeeded"],
      ["gate", 1, "succeeded"],
      ["after", 1, "succeeded"],
    ]);
  });

  it("restarted mid-step, runs that attempt again with the same idempotency key, and the rest once", async () => {
    const { token, tenant } = await createTenant();
    const slow = await sinkPath([200, 200], 1_000);
    const next = await sinkPath();
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "slow", type: "http", url: `${SINK}${slow}` },
        { id: "next", type: "http", url: `${SINK}${next}` },
      ],
    });
    const started = await execute(token, workflow.id);
    await expect
      .poll(async () => (await sinkReceived(slow)).length, { timeout: 5_000, interval: 25 })
      .toBe(1);

    await crash(objectOf(tenant.id, started.id));
    // Nothing is in memory any more; the next alarm (through a new stub: the old one broke
    // with its object) walks the flow again.
    expect(await runDurableObjectAlarm(objectOf(tenant.id, started.id))).toBe(true);
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");

    const keys = (await sinkReceived(slow)).map((r) => r.headers["idempotency-key"]);
    expect(keys).toEqual([`${started.id}:slow:1`, `${started.id}:slow:1`]);
    expect((await sinkReceived(next)).length).toBe(1);
    expect(attemptsOf(run, "slow").map((a) => [a.attempt, a.status])).toEqual([[1, "succeeded"]]);
    expect(attemptsOf(run, "next").map((a) => [a.attempt, a.status])).toEqual([[1, "succeeded"]]);
  });

  it("restarted while a retry waits, the alarm still runs the next attempt", async () => {
    const { token, tenant } = await createTenant();
    const flaky = await sinkPath([500, 200]);
    const workflow = await createWorkflow(token, {
      steps: [
        {
          id: "call",
          type: "http",
          url: `${SINK}${flaky}`,
          retry: { maxAttempts: 2, initialDelayMs: 500, jitter: 0 },
        },
      ],
    });
    const started = await execute(token, workflow.id);
    await expect
      .poll(async () => (await sinkReceived(flaky)).length, { timeout: 5_000, interval: 25 })
      .toBe(1);
    await crash(objectOf(tenant.id, started.id));
    const run = await waitFor(token, started.id, undefined, 10_000);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(attemptsOf(run, "call").map((a) => [a.attempt, a.status])).toEqual([
      [1, "failed"],
      [2, "succeeded"],
    ]);
  });
});
