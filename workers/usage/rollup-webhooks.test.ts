import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, gte, lt } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usageReportCursors, webhookDeliveries } from "../../db/schema";
import { type UsageMeter, usageEvents } from "../../db/schema/usage";
import { handleJobs } from "../../queues/jobs/consumer";
import type { JobMessage } from "../../queues/jobs/message";
import { runUsageRollupSweep } from "../../queues/jobs/usage-rollup-report";
import type { ReceivedWebhook } from "../../scripts/local-stack/webhook-sink";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { eventually } from "../../test/harness/observability";
import { recordingJobs } from "../../test/harness/queue";
import { parseConfig } from "../env";
import { newId } from "../lib/ids";
import { newLogger } from "../lib/logger";
import { verifyWebhookSignature, type WebhookEnvelope } from "../lib/webhooks";
import { withTenantDb } from "../routes/conversations/test-fixtures";
import { METER_UNITS } from "./meter-units";
import { recordUsageEvents, type UsageEvent } from "./record";
import {
  closedThrough,
  reportUsageRollups,
  rollupEventId,
  type UsageRollupLine,
  type UsageRollupPayload,
} from "./rollup-webhooks";

const SINK = (env as unknown as { WEBHOOK_SINK_URL: string }).WEBHOOK_SINK_URL;
const HOUR = 3_600_000;
const SONNET = "claude-sonnet-4-6";
const HAIKU = "claude-haiku-4-5";

async function received(path: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${SINK}/__received?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { received: ReceivedWebhook[] }).received;
}

/** A fresh tenant whose billing webhook URL is a sink path of its own. */
async function billingTenant() {
  const path = `/billing/${crypto.randomUUID()}`;
  const fixture = await createTenant();
  const patched = await api.patch("/v1/tenant", {
    token: fixture.token,
    body: { settings: { billingWebhookUrl: `${SINK}${path}` } },
  });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  return { ...fixture, path };
}

function usage(at: number, meter: UsageMeter, quantity: number, extra: Partial<UsageEvent> = {}): UsageEvent {
  return {
    eventKey: `test:${newId()}:${meter}`,
    occurredAt: new Date(at),
    meter,
    quantity,
    unit: METER_UNITS[meter],
    costMicroUsd: meter.startsWith("model_") ? quantity * 3 : 0,
    ...extra,
  };
}

function record(tenantId: string, events: UsageEvent[]) {
  return withTenantDb(tenantId, (db) => recordUsageEvents(db, events));
}

/** One `usage_rollup_report` message through the real jobs consumer; it must be acknowledged. */
async function runReport(tenantId: string, requestedAt: number): Promise<void> {
  const message: JobMessage = {
    type: "usage_rollup_report",
    tenantId,
    requestedAt: new Date(requestedAt).toISOString(),
  };
  const batch = createMessageBatch<unknown>("meridian-jobs", [
    { id: "r1", timestamp: new Date(), attempts: 1, body: message },
  ]);
  await handleJobs(batch, env);
  expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(["r1"]);
}

function rollupDeliveries(tenantId: string) {
  return withTenantDb(tenantId, (db) =>
    db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventType, "usage.rollup")),
  );
}

const notifier = (allowPrivate = true) => ({
  queue: env.JOBS,
  policy: { allowPrivate },
  logger: newLogger("silent"),
});

const byKey = (a: UsageRollupLine, b: UsageRollupLine) =>
  `${a.meter}|${a.model}`.localeCompare(`${b.meter}|${b.model}`);

/** What the tenant's raw usage events of the hour add up to, per meter and per meter and model. */
async function rawTotals(tenantId: string, from: number) {
  const rows = await withTenantDb(tenantId, (db) =>
    db
      .select()
      .from(usageEvents)
      .where(
        and(gte(usageEvents.occurredAt, new Date(from)), lt(usageEvents.occurredAt, new Date(from + HOUR))),
      ),
  );
  const lines = new Map<string, UsageRollupLine>();
  const meters = new Map<string, Omit<UsageRollupLine, "model">>();
  for (const row of rows) {
    const line = lines.get(`${row.meter}|${row.model}`) ?? {
      meter: row.meter,
      model: row.model,
      unit: row.unit,
      quantity: 0,
      costMicroUsd: 0,
      events: 0,
    };
    const meter = meters.get(row.meter) ?? {
      meter: row.meter,
      unit: row.unit,
      quantity: 0,
      costMicroUsd: 0,
      events: 0,
    };
    for (const sum of [line, meter]) {
      sum.quantity += row.quantity;
      sum.costMicroUsd += row.costMicroUsd;
      sum.events += 1;
    }
    lines.set(`${row.meter}|${row.model}`, line);
    meters.set(row.meter, meter);
  }
  return {
    lines: [...lines.values()].sort(byKey),
    meters: [...meters.values()].sort((a, b) => a.meter.localeCompare(b.meter)),
    costMicroUsd: rows.reduce((sum, row) => sum + row.costMicroUsd, 0),
    events: rows.length,
  };
}

describe("usage.rollup webhooks", () => {
  it("send each closed hour once, signed, with the tenant's own totals, which equal its raw events", async () => {
    const now = Date.now();
    const hour = closedThrough(now).getTime() - HOUR; // the last closed hour
    const a = await billingTenant();
    const b = await billingTenant();
    const agentId = newId();
    await record(a.tenant.id, [
      usage(hour + 60_000, "model_input_tokens", 100, { model: SONNET, agentId }),
      usage(hour + 120_000, "model_input_tokens", 50, { model: SONNET }),
      usage(hour + 180_000, "model_input_tokens", 20, { model: HAIKU, agentId }),
      usage(hour + 240_000, "model_output_tokens", 30, { model: SONNET, agentId }),
      usage(hour + 300_000, "tool_calls", 1, { agentId }),
      usage(hour + HOUR - 1, "storage_bytes", 2048),
      // Before the tenant's first report (not sent) and in the hour still open (sent later).
      usage(hour - HOUR + 60_000, "model_input_tokens", 7, { model: SONNET }),
      usage(hour + HOUR + 60_000, "model_input_tokens", 9, { model: SONNET }),
    ]);
    await record(b.tenant.id, [usage(hour + 60_000, "model_input_tokens", 4000, { model: SONNET })]);

    await runReport(a.tenant.id, now);
    await runReport(b.tenant.id, now);

    const [hit] = await eventually(
      () => received(a.path),
      (hits) => hits.length >= 1,
    );
    if (!hit) throw new Error("no usage.rollup arrived");
    const secret = (await api.get<{ secret: string }>("/v1/webhooks/signing-secret", { token: a.token })).body
      .secret;
    expect(await verifyWebhookSignature(secret, hit.headers["meridian-signature"] ?? "", hit.body)).toBe(
      true,
    );
    expect(hit.headers["meridian-event-type"]).toBe("usage.rollup");
    const envelope = JSON.parse(hit.body) as WebhookEnvelope & { data: UsageRollupPayload };
    expect(envelope.id).toBe(rollupEventId(new Date(hour)));
    expect(envelope.id).toBe(`usage.rollup:${new Date(hour).toISOString()}`);
    expect(envelope.type).toBe("usage.rollup");

    const data = envelope.data;
    const expected = await rawTotals(a.tenant.id, hour);
    expect(data).toMatchObject({
      tenantId: a.tenant.id,
      from: new Date(hour).toISOString(),
      to: new Date(hour + HOUR).toISOString(),
      costMicroUsd: expected.costMicroUsd,
      events: 6,
    });
    expect(data.events).toBe(expected.events);
    expect([...data.lines].sort(byKey)).toEqual(expected.lines);
    expect([...data.meters].sort((x, y) => x.meter.localeCompare(y.meter))).toEqual(expected.meters);
    expect(data.meters.find((m) => m.meter === "model_input_tokens")).toEqual({
      meter: "model_input_tokens",
      unit: "tokens",
      quantity: 170,
      costMicroUsd: 510,
      events: 3,
    });

    // The other tenant's hour is its own event, with its own usage only.
    const [other] = await eventually(
      () => received(b.path),
      (hits) => hits.length >= 1,
    );
    const otherData = (JSON.parse(other?.body ?? "{}") as { data: UsageRollupPayload }).data;
    expect(otherData.tenantId).toBe(b.tenant.id);
    expect(otherData.lines).toEqual([
      {
        meter: "model_input_tokens",
        model: SONNET,
        unit: "tokens",
        quantity: 4000,
        costMicroUsd: 12000,
        events: 1,
      },
    ]);

    // Run again, as a redelivered message and directly: no second delivery of the hour.
    await runReport(a.tenant.id, now);
    await withTenantDb(a.tenant.id, (db) => reportUsageRollups(db, notifier(), { now }));
    const rows = await rollupDeliveries(a.tenant.id);
    expect(rows.map((row) => row.eventId)).toEqual([rollupEventId(new Date(hour))]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await received(a.path)).toHaveLength(1);
  });

  it("catch up on every missed hour with usage, a bounded number per run, and send nothing for empty hours", async () => {
    const t = await billingTenant();
    const closed = closedThrough(Date.now()).getTime();
    // The reports stopped six hours ago (an outage); three of those hours had usage.
    await withTenantDb(t.tenant.id, (db) =>
      db
        .insert(usageReportCursors)
        .values({ tenantId: t.tenant.id, reportedThrough: new Date(closed - 6 * HOUR) }),
    );
    const busy = [closed - 6 * HOUR, closed - 4 * HOUR, closed - 3 * HOUR];
    await record(
      t.tenant.id,
      busy.map((at, i) => usage(at + 1_000, "workflow_steps", i + 1)),
    );

    const run = (maxHours?: number) =>
      withTenantDb(t.tenant.id, (db) => reportUsageRollups(db, notifier(), { now: Date.now(), maxHours }));
    expect(await run(2)).toEqual({ sent: 2, reportedThrough: new Date(closed - 3 * HOUR) });
    expect(await run()).toEqual({ sent: 1, reportedThrough: new Date(closed) });
    expect(await run()).toEqual({ sent: 0, reportedThrough: new Date(closed) });

    const ids = (await rollupDeliveries(t.tenant.id)).map((row) => row.eventId).sort();
    expect(ids).toEqual(busy.map((at) => rollupEventId(new Date(at))).sort());
    const hits = await eventually(
      () => received(t.path),
      (got) => got.length >= 3,
    );
    const quantities = hits
      .map((hit) => JSON.parse(hit.body) as { data: UsageRollupPayload })
      .sort((x, y) => x.data.from.localeCompare(y.data.from))
      .map((e) => e.data.meters);
    expect(quantities).toEqual(
      [1, 2, 3].map((quantity) => [
        { meter: "workflow_steps", unit: "steps", quantity, costMicroUsd: 0, events: 1 },
      ]),
    );
  });

  it("keep an hour whose URL is refused until it can be sent", async () => {
    const t = await billingTenant();
    const hour = closedThrough(Date.now()).getTime() - HOUR;
    await record(t.tenant.id, [usage(hour + 1_000, "documents", 1)]);
    // A policy that refuses the sink's loopback address, as production's would.
    const refused = await withTenantDb(t.tenant.id, (db) =>
      reportUsageRollups(db, notifier(false), { now: Date.now() }),
    );
    expect(refused).toEqual({ sent: 0, reportedThrough: new Date(hour) });
    expect(await rollupDeliveries(t.tenant.id)).toEqual([]);

    const sent = await withTenantDb(t.tenant.id, (db) =>
      reportUsageRollups(db, notifier(), { now: Date.now() }),
    );
    expect(sent).toEqual({ sent: 1, reportedThrough: new Date(hour + HOUR) });
  });

  it("send nothing to a tenant without a billing URL, and the sweep queues only tenants with one", async () => {
    const withUrl = await billingTenant();
    const without = await createTenant();
    const hour = closedThrough(Date.now()).getTime() - HOUR;
    await record(without.tenant.id, [usage(hour + 1_000, "model_input_tokens", 10, { model: SONNET })]);

    await runReport(without.tenant.id, Date.now());
    expect(await rollupDeliveries(without.tenant.id)).toEqual([]);
    expect(await withTenantDb(without.tenant.id, (db) => db.select().from(usageReportCursors))).toEqual([]);

    const { bindings: recording, sent } = recordingJobs();
    const requestedAt = new Date().toISOString();
    const queued = await runUsageRollupSweep(recording, parseConfig(env), requestedAt);
    expect(queued).toBe(sent.length);
    const tenants = sent.map((m) => (m.type === "usage_rollup_report" ? m.tenantId : m.type));
    expect(tenants).toContain(withUrl.tenant.id);
    expect(tenants).not.toContain(without.tenant.id);
    expect(sent.find((m) => m.type === "usage_rollup_report" && m.tenantId === withUrl.tenant.id)).toEqual({
      type: "usage_rollup_report",
      tenantId: withUrl.tenant.id,
      requestedAt,
    });
  });
});
