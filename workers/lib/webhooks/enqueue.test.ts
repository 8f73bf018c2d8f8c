import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { webhookDeliveries } from "../../../db/schema";
import type { JobMessage } from "../../../queues/jobs/message";
import { createTenant } from "../../../test/harness/fixtures";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { ApiError } from "../errors";
import { enqueueWebhook, type JobQueue, MAX_WEBHOOK_PAYLOAD_BYTES, type WebhookEvent } from ".";

/** A queue that records what it was sent, so no real consumer runs. */
function recordingQueue(): JobQueue & { sent: JobMessage[] } {
  const sent: JobMessage[] = [];
  return {
    sent,
    async send(message: JobMessage) {
      sent.push(message);
    },
  };
}

function event(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    eventId: `agent_task.completed:${crypto.randomUUID()}`,
    eventType: "agent_task.completed",
    url: "https://hooks.example.com/meridian",
    payload: { taskId: "t1", status: "succeeded" },
    ...overrides,
  };
}

describe("enqueueWebhook", () => {
  it("records a pending delivery and queues one message for it", async () => {
    const { tenant } = await createTenant();
    const queue = recordingQueue();
    const input = event();
    const { deliveryId, created } = await withTenantDb(tenant.id, (db) => enqueueWebhook(db, queue, input));
    expect(created).toBe(true);
    expect(queue.sent).toEqual([{ type: "webhook_delivery", tenantId: tenant.id, deliveryId }]);
    const [row] = await withTenantDb(tenant.id, (db) =>
      db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)),
    );
    expect(row).toMatchObject({
      tenantId: tenant.id,
      eventId: input.eventId,
      eventType: "agent_task.completed",
      url: input.url,
      payload: input.payload,
      status: "pending",
      attempts: 0,
      deliveredAt: null,
    });
  });

  it("is idempotent on the event id: the same event twice is one row and one message", async () => {
    const { tenant } = await createTenant();
    const queue = recordingQueue();
    const input = event();
    const first = await withTenantDb(tenant.id, (db) => enqueueWebhook(db, queue, input));
    const second = await withTenantDb(tenant.id, (db) =>
      enqueueWebhook(db, queue, { ...input, payload: { different: true } }),
    );
    expect(second).toEqual({ deliveryId: first.deliveryId, created: false });
    expect(queue.sent).toHaveLength(1);
    const rows = await withTenantDb(tenant.id, (db) =>
      db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, input.eventId)),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.payload).toEqual(input.payload);
  });

  it("keeps event ids per tenant: another tenant's same id is its own delivery", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const queue = recordingQueue();
    const input = event();
    const inA = await withTenantDb(a.tenant.id, (db) => enqueueWebhook(db, queue, input));
    const inB = await withTenantDb(b.tenant.id, (db) => enqueueWebhook(db, queue, input));
    expect(inB.created).toBe(true);
    expect(inB.deliveryId).not.toBe(inA.deliveryId);
  });

  it.each([
    ["a loopback URL", { url: "http://127.0.0.1:8080/hook" }],
    ["a metadata URL", { url: "http://169.254.169.254/latest" }],
    ["a non-http URL", { url: "ftp://example.com/hook" }],
    ["credentials in the URL", { url: "https://user:pw@example.com/hook" }],
    ["an event id with a newline", { eventId: "evt\r\nX-Injected: 1" }],
    ["an empty event id", { eventId: "" }],
    ["a payload that is not an object", { payload: [1, 2] as unknown as Record<string, unknown> }],
    ["a payload over the limit", { payload: { blob: "x".repeat(MAX_WEBHOOK_PAYLOAD_BYTES) } }],
  ])("refuses %s with UNPROCESSABLE, recording and sending nothing", async (_label, overrides) => {
    const { tenant } = await createTenant();
    const queue = recordingQueue();
    const err = await withTenantDb(tenant.id, (db) => enqueueWebhook(db, queue, event(overrides))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "UNPROCESSABLE" });
    expect(queue.sent).toEqual([]);
    expect(await withTenantDb(tenant.id, (db) => db.select().from(webhookDeliveries))).toEqual([]);
  });

  it("lets private hosts through only when the policy allows them (local development)", async () => {
    const { tenant } = await createTenant();
    const queue = recordingQueue();
    const result = await withTenantDb(tenant.id, (db) =>
      enqueueWebhook(db, queue, event({ url: "http://127.0.0.1:8080/hook" }), {
        policy: { allowPrivate: true },
      }),
    );
    expect(result.created).toBe(true);
  });
});
