import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import { purgeUsageEvents } from "../../db/privileged";
import { usageEvents, usageRollups } from "../../db/schema/usage";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { newId } from "../lib/ids";
import { withTenantDb } from "../routes/conversations/test-fixtures";
import type { UsageReport } from "../routes/usage/schemas";
import { recordUnbilledUsageAtCommit, recordUsageEvents, type UsageEvent } from "./record";

const DAY_MS = 86_400_000;

function event(at: Date, quantity: number, extra: Partial<UsageEvent> = {}): UsageEvent {
  return {
    eventKey: `model_call:${newId()}:1:model_input_tokens`,
    occurredAt: at,
    meter: "model_input_tokens",
    quantity,
    unit: "tokens",
    costMicroUsd: quantity * 3,
    model: "claude-sonnet-4-6",
    ...extra,
  };
}

async function report(token: string, query: string): Promise<UsageReport> {
  const res = await api.get<UsageReport>(`/v1/usage${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

function withPrivileged<T>(fn: (client: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> {
  const bindings = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string };
  return connect({ DATABASE_URL: bindings.DATABASE_URL, NEON_WS_PROXY: bindings.NEON_WS_PROXY }).then(
    async (c) => {
      try {
        return await fn(c);
      } finally {
        await c.end();
      }
    },
  );
}

describe("usage recorded at commit", () => {
  it("writes unbilled events and their rollups with the COMMIT, once, and refuses events that move a budget", async () => {
    const { tenant } = await createTenant();
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
    const unbilled = [1, 2].map((n) =>
      event(new Date(hour.getTime() + n * 60_000), 10 * n, {
        eventKey: `rag_query_embedding:${newId()}:m:embedding_tokens`,
        meter: "embedding_tokens",
        costMicroUsd: 0,
        model: "m",
      }),
    );
    await withTenantDb(tenant.id, async (db) => recordUnbilledUsageAtCommit(db, unbilled));
    await withTenantDb(tenant.id, async (db) => recordUnbilledUsageAtCommit(db, unbilled)); // replayed
    const { events, rollups } = await withTenantDb(tenant.id, async (db) => ({
      events: await db.select().from(usageEvents),
      rollups: await db.select().from(usageRollups),
    }));
    expect(events.map((e) => e.quantity).sort()).toEqual([10, 20]);
    expect(rollups.map((r) => [r.hour.getTime(), r.meter, r.model, r.quantity, r.events])).toEqual([
      [hour.getTime(), "embedding_tokens", "m", 30, 2],
    ]);

    for (const billed of [
      event(hour, 5),
      { ...unbilled[0], eventKey: "priced", costMicroUsd: 1 } as UsageEvent,
    ]) {
      await expect(
        withTenantDb(tenant.id, async (db) => recordUnbilledUsageAtCommit(db, [billed])),
      ).rejects.toThrow(/moves a budget/);
    }
    expect(await withTenantDb(tenant.id, (db) => db.select().from(usageEvents))).toHaveLength(2);
  });
});

describe("usage rollups", () => {
  it("sum each hour's events per grouping once, redeliveries included, and reports from them match the raw events", async () => {
    const { tenant, token } = await createTenant();
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000);
    const agentId = newId();
    const events = [
      event(new Date(hour.getTime() + 60_000), 100, { agentId }),
      event(new Date(hour.getTime() + 120_000), 50, { agentId }),
      event(new Date(hour.getTime() + 120_000), 7),
      event(new Date(hour.getTime() + 3_600_000 + 5), 20, { agentId, model: "claude-haiku-4-5" }),
    ];
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, events));
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, events.slice(0, 2))); // redelivered
    const rollups = await withTenantDb(tenant.id, (db) => db.select().from(usageRollups));
    expect(
      rollups
        .map((r) => [r.hour.getTime() - hour.getTime(), r.model, r.agentId, r.quantity, r.events])
        .sort(),
    ).toEqual(
      [
        [0, "claude-sonnet-4-6", agentId, 150, 2],
        [0, "claude-sonnet-4-6", null, 7, 1],
        [3_600_000, "claude-haiku-4-5", agentId, 20, 1],
      ].sort(),
    );

    const from = hour.toISOString();
    const to = new Date(hour.getTime() + 2 * 3_600_000).toISOString();
    const fromRollups = await report(token, `?from=${from}&to=${to}&groupBy=hour,model,agent`);
    // A range that cuts into an hour reads the events; widened by a millisecond it covers the same ones.
    const fromEvents = await report(
      token,
      `?from=${from}&to=${new Date(hour.getTime() + 2 * 3_600_000 + 1).toISOString()}&groupBy=hour,model,agent`,
    );
    expect(fromRollups.groups).toEqual(fromEvents.groups);
    expect(fromRollups.totals).toEqual({
      byMeter: { model_input_tokens: { quantity: 177, costMicroUsd: 531 } },
      costMicroUsd: 531,
    });
  });

  it("raw events past their retention are purged; reports keep their totals from the rollups", async () => {
    const { tenant, token } = await createTenant();
    const old = new Date(Date.now() - 500 * DAY_MS);
    const oldHour = new Date(Math.floor(old.getTime() / 3_600_000) * 3_600_000);
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, [event(old, 40), event(new Date(), 5)]));
    expect(await withPrivileged((client) => purgeUsageEvents(client, 400))).toBeGreaterThanOrEqual(1);
    const raw = await withTenantDb(tenant.id, (db) => db.select().from(usageEvents));
    expect(raw.map((r) => r.quantity)).toEqual([5]);
    const then = await report(
      token,
      `?from=${oldHour.toISOString()}&to=${new Date(oldHour.getTime() + 3_600_000).toISOString()}`,
    );
    expect(then.totals.byMeter.model_input_tokens?.quantity).toBe(40);
    await expect(withPrivileged((client) => purgeUsageEvents(client, 0))).rejects.toThrow(/at least a day/);
  });
});
