import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { webhookDeliveries } from "../../../db/schema";
import type { ReceivedWebhook } from "../../../scripts/local-stack/webhook-sink";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import {
  enqueueWebhook,
  getSigningSecret,
  type JobQueue,
  verifyWebhookSignature,
  WEBHOOK_SIGNING_KEY_NAME,
  type WebhookEventType,
} from "../../lib/webhooks";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ListSecretsResponse } from "../secrets/list-secrets";
import type { ListWebhookDeliveriesResponse } from "./list-webhook-deliveries";
import type { SigningSecretResponse, WebhookDeliveryResponse } from "./schemas";

const SINK = (env as unknown as { WEBHOOK_SINK_URL: string }).WEBHOOK_SINK_URL;
const config = {
  SECRETS_MASTER_KEYS: (env as unknown as { SECRETS_MASTER_KEYS: string }).SECRETS_MASTER_KEYS,
};
/** Swallows sends: these deliveries are only for the log, no consumer runs them. */
const nowhere: JobQueue = { send: async () => undefined };

async function received(path: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${SINK}/__received?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { received: ReceivedWebhook[] }).received;
}

/** A delivery in the tenant's log, to the sink, in the given state. */
async function addDelivery(
  tenantId: string,
  opts: { status?: "pending" | "delivered" | "failed"; eventType?: WebhookEventType; path?: string } = {},
): Promise<string> {
  const path = opts.path ?? `/hooks/${crypto.randomUUID()}`;
  const { deliveryId } = await withTenantDb(tenantId, (db) =>
    enqueueWebhook(
      db,
      nowhere,
      {
        eventId: `evt-${crypto.randomUUID()}`,
        eventType: opts.eventType ?? "agent_task.completed",
        url: `${SINK}${path}`,
        payload: { taskId: "t1" },
      },
      { policy: { allowPrivate: true } },
    ),
  );
  if (opts.status && opts.status !== "pending") {
    const delivered = opts.status === "delivered";
    await withTenantDb(tenantId, (db) =>
      db
        .update(webhookDeliveries)
        .set({
          status: opts.status,
          attempts: delivered ? 1 : 6,
          lastStatusCode: delivered ? 200 : 500,
          lastError: delivered ? null : "HTTP 500",
          deliveredAt: delivered ? new Date() : null,
        })
        .where(eq(webhookDeliveries.id, deliveryId)),
    );
  }
  return deliveryId;
}

describe("webhook signing secret", () => {
  it("is created on first read, then stable; rotation replaces it and is audited", async () => {
    const { token, tenant } = await createTenant();
    const first = await api.get<SigningSecretResponse>("/v1/webhooks/signing-secret", { token });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const again = await api.get<SigningSecretResponse>("/v1/webhooks/signing-secret", { token });
    expect(again.body.secret).toBe(first.body.secret);
    expect(await withTenantDb(tenant.id, (db) => getSigningSecret(db, config))).toBe(first.body.secret);

    const rotated = await api.post<SigningSecretResponse>("/v1/webhooks/signing-secret/rotate", { token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(first.body.secret);
    const after = await api.get<SigningSecretResponse>("/v1/webhooks/signing-secret", { token });
    expect(after.body.secret).toBe(rotated.body.secret);

    const log = await api.get<ListAuditLogsResponse>("/v1/audit-logs?resourceType=webhook_signing_secret", {
      token,
    });
    expect(log.body.data.map((e) => e.action)).toEqual(["webhook_signing_secret.rotate"]);
    expect(JSON.stringify(log.body)).not.toContain(rotated.body.secret);
  });

  it("keeps the key out of the secrets API: reserved names are refused and never listed", async () => {
    const { token } = await createTenant();
    await api.get("/v1/webhooks/signing-secret", { token });
    await api.put("/v1/secrets/GITHUB_TOKEN", { token, body: { value: "v" } });

    for (const name of [WEBHOOK_SIGNING_KEY_NAME, "meridian_anything"]) {
      const put = await api.put<ProblemBody>(`/v1/secrets/${name}`, { token, body: { value: "mine now" } });
      expect(put.status).toBe(400);
      expect(put.body.code).toBe("VALIDATION_FAILED");
      expect(put.body.errors?.map((e) => e.path)).toEqual(["name"]);
      const del = await api.delete<ProblemBody>(`/v1/secrets/${name}`, { token });
      expect(del.status).toBe(400);
    }
    const list = await api.get<ListSecretsResponse>("/v1/secrets", { token });
    expect(list.body.data.map((s) => s.name)).toEqual(["GITHUB_TOKEN"]);
    // A page cut right at the reserved row still leads on to the rest.
    const first = await api.get<ListSecretsResponse>("/v1/secrets?limit=1", { token });
    expect(first.body.data.map((s) => s.name)).toEqual(["GITHUB_TOKEN"]);
    const second = await api.get<ListSecretsResponse>(`/v1/secrets?limit=1&cursor=${first.body.nextCursor}`, {
      token,
    });
    expect(second.body.data).toEqual([]);
  });

  it("signs deliveries with the rotated key from then on", async () => {
    const { token, tenant } = await createTenant();
    const old = (await api.get<SigningSecretResponse>("/v1/webhooks/signing-secret", { token })).body.secret;
    const fresh = (await api.post<SigningSecretResponse>("/v1/webhooks/signing-secret/rotate", { token }))
      .body.secret;
    const path = `/hooks/${crypto.randomUUID()}`;
    const id = await addDelivery(tenant.id, { status: "failed", path });
    expect((await api.post(`/v1/webhook-deliveries/${id}/replay`, { token })).status).toBe(202);
    await expect.poll(async () => (await received(path)).length, { timeout: 10_000, interval: 200 }).toBe(1);
    const [hit] = await received(path);
    const signature = hit?.headers["meridian-signature"] ?? "";
    expect(await verifyWebhookSignature(fresh, signature, hit?.body ?? "")).toBe(true);
    expect(await verifyWebhookSignature(old, signature, hit?.body ?? "")).toBe(false);
  });
});

describe("webhook deliveries", () => {
  it("lists newest first with a cursor, filtered by status and event type", async () => {
    const { token, tenant } = await createTenant();
    const a = await addDelivery(tenant.id);
    const b = await addDelivery(tenant.id, { status: "failed", eventType: "agent_task.failed" });
    const c = await addDelivery(tenant.id, { status: "delivered" });

    const all = await api.get<ListWebhookDeliveriesResponse>("/v1/webhook-deliveries", { token });
    expect(all.status).toBe(200);
    expect(all.body.data.map((d) => d.id)).toEqual([c, b, a]);
    expect(all.body.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: ListWebhookDeliveriesResponse } = await api.get<ListWebhookDeliveriesResponse>(
        `/v1/webhook-deliveries?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token },
      );
      seen.push(...res.body.data.map((d) => d.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([c, b, a]);

    const failed = await api.get<ListWebhookDeliveriesResponse>("/v1/webhook-deliveries?status=failed", {
      token,
    });
    expect(failed.body.data.map((d) => d.id)).toEqual([b]);
    const byType = await api.get<ListWebhookDeliveriesResponse>(
      "/v1/webhook-deliveries?eventType=agent_task.completed",
      { token },
    );
    expect(byType.body.data.map((d) => d.id)).toEqual([c, a]);
    const bad = await api.get<ProblemBody>("/v1/webhook-deliveries?status=lost", { token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.path)).toEqual(["status"]);
  });

  it("gets one delivery with its log fields; unknown ids are 404, malformed ones 400", async () => {
    const { token, tenant } = await createTenant();
    const id = await addDelivery(tenant.id, { status: "failed" });
    const res = await api.get<WebhookDeliveryResponse>(`/v1/webhook-deliveries/${id}`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      eventType: "agent_task.completed",
      payload: { taskId: "t1" },
      status: "failed",
      attempts: 6,
      lastStatusCode: 500,
      lastError: "HTTP 500",
      nextAttemptAt: null,
      deliveredAt: null,
    });
    expect(res.body.url.startsWith(SINK)).toBe(true);
    expect((await api.get(`/v1/webhook-deliveries/${crypto.randomUUID()}`, { token })).status).toBe(404);
    expect((await api.get("/v1/webhook-deliveries/not-a-uuid", { token })).status).toBe(400);
  });

  it("replays a failed delivery: pending again with its attempts kept, then delivered by the queue", async () => {
    const { token, tenant } = await createTenant();
    const path = `/hooks/${crypto.randomUUID()}`;
    const id = await addDelivery(tenant.id, { status: "failed", path });

    const res = await api.post<WebhookDeliveryResponse>(`/v1/webhook-deliveries/${id}/replay`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ id, status: "pending", attempts: 6, deliveredAt: null });

    await expect
      .poll(
        async () =>
          (await api.get<WebhookDeliveryResponse>(`/v1/webhook-deliveries/${id}`, { token })).body.status,
        { timeout: 10_000, interval: 200 },
      )
      .toBe("delivered");
    const done = await api.get<WebhookDeliveryResponse>(`/v1/webhook-deliveries/${id}`, { token });
    expect(done.body).toMatchObject({ attempts: 7, lastStatusCode: 200, lastError: null });
    expect(await received(path)).toHaveLength(1);

    const log = await api.get<ListAuditLogsResponse>(`/v1/audit-logs?action=webhook_delivery.replay`, {
      token,
    });
    expect(log.body.data.map((e) => e.resourceId)).toEqual([id]);
  });

  it("replays a delivered delivery (same event id, sent again) and refuses a pending one with 409", async () => {
    const { token, tenant } = await createTenant();
    const path = `/hooks/${crypto.randomUUID()}`;
    const id = await addDelivery(tenant.id, { status: "delivered", path });
    const [row] = await withTenantDb(tenant.id, (db) =>
      db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)),
    );
    expect((await api.post(`/v1/webhook-deliveries/${id}/replay`, { token })).status).toBe(202);
    await expect.poll(async () => (await received(path)).length, { timeout: 10_000, interval: 200 }).toBe(1);
    expect((await received(path))[0]?.headers["meridian-event-id"]).toBe(row?.eventId);

    const pending = await addDelivery(tenant.id);
    const conflict = await api.post<ProblemBody>(`/v1/webhook-deliveries/${pending}/replay`, { token });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe("CONFLICT");
  });

  it("keeps each tenant's deliveries apart: another tenant's are 404 to read and to replay", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const id = await addDelivery(a.tenant.id, { status: "failed" });

    expect((await api.get<ProblemBody>(`/v1/webhook-deliveries/${id}`, { token: b.token })).status).toBe(404);
    const replay = await api.post<ProblemBody>(`/v1/webhook-deliveries/${id}/replay`, { token: b.token });
    expect(replay.status).toBe(404);
    expect(replay.body.code).toBe("NOT_FOUND");
    const list = await api.get<ListWebhookDeliveriesResponse>("/v1/webhook-deliveries", { token: b.token });
    expect(list.body.data).toEqual([]);
    // A's delivery is untouched by B's attempt.
    const own = await api.get<WebhookDeliveryResponse>(`/v1/webhook-deliveries/${id}`, { token: a.token });
    expect(own.body.status).toBe("failed");

    // Each tenant has its own signing secret.
    const secretA = (await api.get<SigningSecretResponse>("/v1/webhooks/signing-secret", { token: a.token }))
      .body;
    const secretB = (await api.get<SigningSecretResponse>("/v1/webhooks/signing-secret", { token: b.token }))
      .body;
    expect(secretA.secret).not.toBe(secretB.secret);
  });

  it("requires a credential; owners and admins manage, members read the log, viewers see nothing", async () => {
    const fixture = await createTenant();
    const id = await addDelivery(fixture.tenant.id, { status: "failed" });
    const routes = {
      secret: { method: "get", path: "/v1/webhooks/signing-secret" },
      rotate: { method: "post", path: "/v1/webhooks/signing-secret/rotate" },
      list: { method: "get", path: "/v1/webhook-deliveries" },
      get: { method: "get", path: `/v1/webhook-deliveries/${id}` },
      replay: { method: "post", path: `/v1/webhook-deliveries/${id}/replay` },
    } as const;
    for (const route of Object.values(routes)) await expectAuthRequired(route);

    const admins = { allowed: ["owner", "admin"], denied: ["member", "viewer"] } as const;
    const readers = { allowed: ["owner", "admin", "member"], denied: ["viewer"] } as const;
    await expectRoles(fixture, routes.secret, { allowed: [...admins.allowed], denied: [...admins.denied] });
    await expectRoles(fixture, routes.rotate, { allowed: [...admins.allowed], denied: [...admins.denied] });
    await expectRoles(fixture, routes.replay, { allowed: [...admins.allowed], denied: [...admins.denied] });
    await expectRoles(fixture, routes.list, { allowed: [...readers.allowed], denied: [...readers.denied] });
    await expectRoles(fixture, routes.get, { allowed: [...readers.allowed], denied: [...readers.denied] });
  });
});
