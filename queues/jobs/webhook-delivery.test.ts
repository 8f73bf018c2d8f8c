import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { webhookDeliveries } from "../../db/schema";
import type { ReceivedWebhook } from "../../scripts/local-stack/webhook-sink";
import { createTenant } from "../../test/harness/fixtures";
import {
  enqueueWebhook,
  getSigningSecret,
  type JobQueue,
  verifyWebhookSignature,
  type WebhookEnvelope,
} from "../../workers/lib/webhooks";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";
import { handleJobs, JOBS_DLQ } from "./consumer";
import type { JobMessage } from "./message";

// The global setup starts the sink and sets OUTBOUND_ALLOW_PRIVATE so the Worker may call it.
const SINK = (env as unknown as { WEBHOOK_SINK_URL: string }).WEBHOOK_SINK_URL;
const config = {
  SECRETS_MASTER_KEYS: (env as unknown as { SECRETS_MASTER_KEYS: string }).SECRETS_MASTER_KEYS,
};

async function scriptSink(path: string, statuses: number[], delayMs = 0): Promise<void> {
  const res = await fetch(`${SINK}/__status`, {
    method: "POST",
    body: JSON.stringify({ path, statuses, delayMs }),
  });
  expect(res.status).toBe(200);
}

async function received(path: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${SINK}/__received?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { received: ReceivedWebhook[] }).received;
}

/** A path of the test's own on the sink. */
const hookPath = () => `/hooks/${crypto.randomUUID()}`;

/** Enqueues without the real queue (its sends are returned), so the test drives the consumer. */
async function enqueue(tenantId: string, path: string, queue?: JobQueue) {
  const sent: JobMessage[] = [];
  const recorder: JobQueue = { send: async (m: JobMessage) => void sent.push(m) };
  const eventId = `agent_task.completed:${crypto.randomUUID()}`;
  const result = await withTenantDb(tenantId, (db) =>
    enqueueWebhook(
      db,
      queue ?? recorder,
      {
        eventId,
        eventType: "agent_task.completed",
        url: `${SINK}${path}`,
        payload: { taskId: "t1", ok: true },
      },
      { policy: { allowPrivate: true } },
    ),
  );
  return { ...result, eventId, message: sent[0] as JobMessage };
}

/** Runs the consumer on one batch as the queue would deliver it. */
async function consume(messages: { id: string; attempts: number; body: unknown }[], queue = "meridian-jobs") {
  const batch = createMessageBatch<unknown>(
    queue,
    messages.map((m) => ({ ...m, timestamp: new Date() })),
  );
  const ctx = createExecutionContext();
  await handleJobs(batch, env);
  const result = await getQueueResult(batch, ctx);
  return {
    acked: result.explicitAcks,
    retried: result.retryMessages.map((m: { msgId: string }) => m.msgId),
  };
}

async function delivery(tenantId: string, id: string) {
  const [row] = await withTenantDb(tenantId, (db) =>
    db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)),
  );
  if (!row) throw new Error(`delivery ${id} not found`);
  return row;
}

describe("webhook delivery job", () => {
  it("POSTs the signed envelope with Meridian's headers; the signature verifies with the tenant's key", async () => {
    const { tenant } = await createTenant();
    const path = hookPath();
    const { deliveryId, eventId, message } = await enqueue(tenant.id, path);
    expect(await consume([{ id: "m1", attempts: 1, body: message }])).toEqual({ acked: ["m1"], retried: [] });

    const [hit] = await received(path);
    expect(hit?.method).toBe("POST");
    expect(hit?.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Meridian-Webhooks/1",
      "meridian-event-id": eventId,
      "meridian-event-type": "agent_task.completed",
    });
    const envelope = JSON.parse(hit?.body ?? "") as WebhookEnvelope;
    expect(envelope).toEqual({
      id: eventId,
      type: "agent_task.completed",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { taskId: "t1", ok: true },
    });

    const secret = await withTenantDb(tenant.id, (db) => getSigningSecret(db, config));
    expect(secret).toMatch(/^whsec_/);
    const signature = hit?.headers["meridian-signature"] ?? "";
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature(secret as string, signature, hit?.body ?? "")).toBe(true);
    expect(await verifyWebhookSignature("whsec_other", signature, hit?.body ?? "")).toBe(false);

    expect(await delivery(tenant.id, deliveryId)).toMatchObject({
      status: "delivered",
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: expect.any(Date),
    });
  });

  it("retries a 500 with the consumer's backoff, then delivers once; redelivery sends nothing", async () => {
    const { tenant } = await createTenant();
    const path = hookPath();
    await scriptSink(path, [500, 200]);
    const { deliveryId, message } = await enqueue(tenant.id, path);

    const before = Date.now();
    expect(await consume([{ id: "m", attempts: 1, body: message }])).toEqual({ acked: [], retried: ["m"] });
    const failed = await delivery(tenant.id, deliveryId);
    expect(failed).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: 500, deliveredAt: null });
    expect(failed.lastError).toMatch(/^HTTP 500/);
    // retryDelaySeconds(1) = 10 s, measured on the database clock.
    const retryIn = (failed.nextAttemptAt?.getTime() ?? 0) - before;
    expect(retryIn).toBeGreaterThan(5_000);
    expect(retryIn).toBeLessThan(15_000);

    expect(await consume([{ id: "m", attempts: 2, body: message }])).toEqual({ acked: ["m"], retried: [] });
    expect(await delivery(tenant.id, deliveryId)).toMatchObject({
      status: "delivered",
      attempts: 2,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
    });

    // The queue delivers at least once: a third copy of the message must not POST again.
    expect(await consume([{ id: "m", attempts: 3, body: message }])).toEqual({ acked: ["m"], retried: [] });
    const hits = await received(path);
    expect(hits.map((h) => h.status)).toEqual([500, 200]);
    // Every attempt sends the same event: same id and the same bytes.
    expect(hits[1]?.body).toBe(hits[0]?.body);
    expect(hits[1]?.headers["meridian-event-id"]).toBe(hits[0]?.headers["meridian-event-id"]);
  });

  it("sends a duplicated message once, even within one batch", async () => {
    const { tenant } = await createTenant();
    const path = hookPath();
    const { message } = await enqueue(tenant.id, path);
    const result = await consume([
      { id: "a", attempts: 1, body: message },
      { id: "b", attempts: 1, body: message },
    ]);
    // A batch's messages run at the same time: the copy that finds the row locked retries later
    // (and then finds it delivered), so both are settled and the receiver hears of it once.
    expect([...result.acked, ...result.retried].sort()).toEqual(["a", "b"]);
    expect(result.acked.length).toBeGreaterThanOrEqual(1);
    expect(await received(path)).toHaveLength(1);
  });

  it("sends once when two consumers race for the same delivery; the loser retries and then finds it done", async () => {
    const { tenant } = await createTenant();
    const path = hookPath();
    // The receiver holds the first attempt open, so the second consumer finds the row locked.
    await scriptSink(path, [200], 1_000);
    const { deliveryId, message } = await enqueue(tenant.id, path);
    const [first, second] = await Promise.all([
      consume([{ id: "a", attempts: 1, body: message }]),
      consume([{ id: "b", attempts: 1, body: message }]),
    ]);
    expect([...first.acked, ...second.acked]).toHaveLength(1);
    const loser = first.retried.length ? "a" : "b";
    expect([...first.retried, ...second.retried]).toEqual([loser]);
    expect(await consume([{ id: loser, attempts: 2, body: message }])).toEqual({
      acked: [loser],
      retried: [],
    });
    expect(await received(path)).toHaveLength(1);
    expect(await delivery(tenant.id, deliveryId)).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("treats a redirect as a failed attempt instead of following it", async () => {
    const { tenant } = await createTenant();
    const path = hookPath();
    await scriptSink(path, [302]);
    const { deliveryId, message } = await enqueue(tenant.id, path);
    expect((await consume([{ id: "r", attempts: 1, body: message }])).retried).toEqual(["r"]);
    const row = await delivery(tenant.id, deliveryId);
    expect(row).toMatchObject({ status: "pending", lastStatusCode: 302 });
    expect(row.lastError).toContain("do not follow redirects");
  });

  it("fails a delivery whose URL the outbound policy refuses at once, without retrying", async () => {
    const { tenant } = await createTenant();
    const [row] = await withTenantDb(tenant.id, (db) =>
      db
        .insert(webhookDeliveries)
        .values({
          tenantId: tenant.id,
          eventId: `evt-${crypto.randomUUID()}`,
          eventType: "agent_task.failed",
          url: "ftp://example.com/hook",
          payload: {},
        })
        .returning(),
    );
    const body = { type: "webhook_delivery", tenantId: tenant.id, deliveryId: row?.id };
    expect(await consume([{ id: "x", attempts: 1, body }])).toEqual({ acked: ["x"], retried: [] });
    const after = await delivery(tenant.id, row?.id as string);
    expect(after).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: null, nextAttemptAt: null });
    expect(after.lastError).toContain("refused");
  });

  it("retries a message whose delivery is not visible (yet): its transaction may not have committed", async () => {
    const { tenant } = await createTenant();
    const body = { type: "webhook_delivery", tenantId: tenant.id, deliveryId: crypto.randomUUID() };
    expect(await consume([{ id: "early", attempts: 1, body }])).toEqual({ acked: [], retried: ["early"] });
  });

  it("the dead-letter queue marks an exhausted delivery failed, and leaves a delivered one alone", async () => {
    const { tenant } = await createTenant();
    const path = hookPath();
    await scriptSink(path, [503]);
    const dead = await enqueue(tenant.id, path);
    expect((await consume([{ id: "d", attempts: 1, body: dead.message }])).retried).toEqual(["d"]);

    const done = await enqueue(tenant.id, hookPath());
    await consume([{ id: "ok", attempts: 1, body: done.message }]);

    const result = await consume(
      [
        { id: "d", attempts: 6, body: dead.message },
        { id: "ok", attempts: 6, body: done.message },
      ],
      JOBS_DLQ,
    );
    expect(result.acked.sort()).toEqual(["d", "ok"]);
    expect(await delivery(tenant.id, dead.deliveryId)).toMatchObject({
      status: "failed",
      attempts: 1,
      lastStatusCode: 503,
      nextAttemptAt: null,
    });
    expect((await delivery(tenant.id, done.deliveryId)).status).toBe("delivered");
  });

  it("a real producer-to-consumer trip: enqueued on JOBS, delivered by the Worker's own consumer", async () => {
    const { tenant } = await createTenant();
    const path = hookPath();
    const { deliveryId } = await enqueue(tenant.id, path, env.JOBS);
    await expect
      .poll(async () => (await delivery(tenant.id, deliveryId)).status, { timeout: 10_000, interval: 200 })
      .toBe("delivered");
    expect(await received(path)).toHaveLength(1);
  });
});
