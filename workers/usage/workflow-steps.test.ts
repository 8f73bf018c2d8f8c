import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usageEvents } from "../../db/schema/usage";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { type Env, parseConfig } from "../env";
import { withTenantDb } from "../routes/conversations/test-fixtures";
import type { UsageReport } from "../routes/usage/schemas";
import {
  attemptsOf,
  createWorkflow,
  execute,
  SINK,
  sinkPath,
  sinkReceived,
  waitFor,
} from "../routes/workflow-executions/test-fixtures";
import { ExecutionRecords } from "../workflows/engine/records";
import { ExecutionStore } from "../workflows/engine/store";

function objectOf(tenantId: string, executionId: string) {
  return env.WORKFLOW_EXECUTION.get(env.WORKFLOW_EXECUTION.idFromName(`${tenantId}:${executionId}`));
}

/** The execution's usage rows, read under RLS as a request would. */
function stepEvents(tenantId: string, executionId: string) {
  return withTenantDb(tenantId, (db) =>
    db.select().from(usageEvents).where(eq(usageEvents.resourceId, executionId)),
  );
}

const keysOf = (executionId: string, stepIds: string[]) =>
  stepIds.map((id) => `workflow_step:${executionId}:${id}:workflow_steps`).sort();

async function usage(token: string): Promise<UsageReport> {
  const res = await api.get<UsageReport>("/v1/usage", { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe("usage: workflow_steps", () => {
  it("meters each step that ended once, whatever its attempts, and a re-sent record adds nothing", async () => {
    const { tenant, token, owner } = await createTenant();
    const flaky = await sinkPath([500, 200]);
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "shape", type: "transform", output: { n: 1 } },
        {
          id: "call",
          type: "http",
          url: `${SINK}${flaky}`,
          retry: { maxAttempts: 2, initialDelayMs: 100, jitter: 0 },
        },
        {
          id: "fanout",
          type: "parallel",
          branches: [
            { id: "left", steps: [{ id: "l1", type: "transform", output: 1 }] },
            { id: "right", steps: [{ id: "r1", type: "transform", output: 2 }] },
          ],
        },
      ],
    });
    const started = await execute(token, workflow.id);
    const run = await waitFor(token, started.id, undefined, 10_000);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(attemptsOf(run, "call").map((a) => a.status)).toEqual(["failed", "succeeded"]);

    const rows = await stepEvents(tenant.id, started.id);
    expect(rows.map((r) => r.eventKey).sort()).toEqual(
      keysOf(started.id, ["shape", "call", "fanout", "l1", "r1"]),
    );
    for (const row of rows) {
      expect(row).toMatchObject({
        meter: "workflow_steps",
        quantity: 1,
        unit: "steps",
        costMicroUsd: 0,
        resourceType: "workflow_execution",
        resourceId: started.id,
        userId: owner.id,
        apiKeyId: null,
      });
    }

    // What a restarted object does: every step's record sent to PostgreSQL again, through the same path.
    await runInDurableObject(objectOf(tenant.id, started.id), async (_instance, state) => {
      const store = new ExecutionStore(state.storage.sql);
      const spec = store.spec();
      if (!spec) throw new Error("the execution has no spec");
      const records = new ExecutionRecords(
        state.storage.sql,
        parseConfig(env as unknown as Env),
        spec.tenantId,
        spec.executionId,
        spec.actor,
        (error) => {
          throw error;
        },
      );
      for (const step of store.steps()) records.noteAttempt(step);
      await records.flush();
    });
    const again = await stepEvents(tenant.id, started.id);
    expect(again.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());

    const report = await usage(token);
    expect(report.totals.byMeter.workflow_steps).toEqual({ quantity: rows.length, costMicroUsd: 0 });
  });

  it("counts a step that failed for good; not one never reached, waiting or cancelled", async () => {
    const { tenant, token } = await createTenant();
    const failing = await createWorkflow(token, {
      steps: [
        { id: "ok", type: "transform", output: { n: 1 } },
        { id: "greet", type: "transform", output: { text: "hello {{input.name}}" } },
        { id: "never", type: "transform", output: { n: 2 } },
      ],
    });
    const failed = await execute(token, failing.id);
    expect((await waitFor(token, failed.id)).status).toBe("failed");
    expect((await stepEvents(tenant.id, failed.id)).map((r) => r.eventKey).sort()).toEqual(
      keysOf(failed.id, ["ok", "greet"]),
    );

    const gated = await createWorkflow(token, {
      steps: [
        { id: "first", type: "transform", output: { n: 1 } },
        { id: "gate", type: "wait_for_approval" },
      ],
    });
    const cancelled = await execute(token, gated.id);
    await waitFor(token, cancelled.id, ["waiting"]);
    const cancel = await api.post(`/v1/workflow-executions/${cancelled.id}/cancel`, { token });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect((await waitFor(token, cancelled.id)).status).toBe("cancelled");
    expect((await stepEvents(tenant.id, cancelled.id)).map((r) => r.eventKey)).toEqual(
      keysOf(cancelled.id, ["first"]),
    );

    const all = await withTenantDb(tenant.id, (db) =>
      db.select().from(usageEvents).where(eq(usageEvents.meter, "workflow_steps")),
    );
    expect(all).toHaveLength(3);
    expect((await usage(token)).totals.byMeter.workflow_steps?.quantity).toBe(
      all.reduce((sum, r) => sum + r.quantity, 0),
    );
  });

  it("a step cut off mid-attempt and run again after a restart counts once", async () => {
    const { tenant, token } = await createTenant();
    const slow = await sinkPath([200, 200], 1_000);
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "slow", type: "http", url: `${SINK}${slow}` },
        { id: "next", type: "transform", output: { done: true } },
      ],
    });
    const started = await execute(token, workflow.id);
    await expect
      .poll(async () => (await sinkReceived(slow)).length, { timeout: 5_000, interval: 25 })
      .toBe(1);
    await runInDurableObject(objectOf(tenant.id, started.id), (_instance, state) =>
      state.abort("simulated crash"),
    ).catch(() => undefined);
    expect(await runDurableObjectAlarm(objectOf(tenant.id, started.id))).toBe(true);
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect((await sinkReceived(slow)).length).toBe(2);
    expect((await stepEvents(tenant.id, started.id)).map((r) => r.eventKey).sort()).toEqual(
      keysOf(started.id, ["slow", "next"]),
    );
  });
});
