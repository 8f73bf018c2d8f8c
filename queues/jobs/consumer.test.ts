import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { ownerQuery } from "../../test/harness/owner-db";
import worker from "../../workers/index";
import type { AgentResponse } from "../../workers/routes/agents/schemas";
import { JOBS_DLQ, retryDelaySeconds } from "./consumer";
import type { JobMessage } from "./message";

async function deletedAgent(daysAgo: number): Promise<string> {
  const { token } = await createTenant();
  const agent = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "old", model: "claude-sonnet-4-6" },
  });
  await api.delete(`/v1/agents/${agent.body.id}`, { token });
  await ownerQuery(`update agents set deleted_at = now() - make_interval(days => $2) where id = $1`, [
    agent.body.id,
    daysAgo,
  ]);
  return agent.body.id;
}

async function agentExists(id: string): Promise<boolean> {
  const { rows } = await ownerQuery("select 1 from agents where id = $1", [id]);
  return rows.length === 1;
}

const purge = (olderThanDays = 30): JobMessage => ({
  type: "purge_soft_deleted",
  olderThanDays,
  requestedAt: new Date().toISOString(),
});

describe("jobs queue", () => {
  it("purges rows soft-deleted past retention and keeps the restorable ones", async () => {
    const old = await deletedAgent(40);
    const recent = await deletedAgent(2);
    const batch = createMessageBatch<unknown>("meridian-jobs", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: purge() },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    expect(await agentExists(old)).toBe(false);
    expect(await agentExists(recent)).toBe(true);

    // A redelivery of the same message finds nothing left to do and is acknowledged again.
    const again = createMessageBatch<unknown>("meridian-jobs", [
      { id: "m1", timestamp: new Date(), attempts: 2, body: purge() },
    ]);
    const ctx2 = createExecutionContext();
    await worker.queue(again, env);
    expect((await getQueueResult(again, ctx2)).explicitAcks).toEqual(["m1"]);
    expect(await agentExists(recent)).toBe(true);
  });

  it("acknowledges a malformed message instead of retrying it forever", async () => {
    const batch = createMessageBatch<unknown>("meridian-jobs", [
      {
        id: "bad",
        timestamp: new Date(),
        attempts: 1,
        body: { type: "purge_soft_deleted", olderThanDays: -1 },
      },
      { id: "worse", timestamp: new Date(), attempts: 1, body: "not even an object" },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["bad", "worse"]);
    expect(result.retryMessages).toEqual([]);
  });

  it("retries a failing job with exponential backoff", async () => {
    // A role that does not exist: the connection is refused by PostgreSQL itself.
    const broken = { ...env, DATABASE_URL: "postgres://no_such_role:x@127.0.0.1:5432/none" } as typeof env;
    const batch = createMessageBatch<unknown>("meridian-jobs", [
      { id: "m", timestamp: new Date(), attempts: 3, body: purge() },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, broken);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    // The pool records which messages were retried, not their delay; the schedule is checked below.
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m"]);
    expect([1, 2, 3, 4, 10].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 900]);
  });

  it("records and acknowledges dead letters", async () => {
    const batch = createMessageBatch<unknown>(JOBS_DLQ, [
      { id: "dead", timestamp: new Date(), attempts: 6, body: purge() },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead"]);
  });

  it("the cron trigger enqueues a purge that the consumer runs (a real producer-to-consumer trip)", async () => {
    const old = await deletedAgent(45);
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "17 * * * *" }), env);
    await expect.poll(() => agentExists(old), { timeout: 10_000, interval: 200 }).toBe(false);
  });
});
