import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import { releaseExpiredReservations } from "../../db/privileged";
import { budgetPeriods } from "../../db/schema";
import { usageEvents } from "../../db/schema/usage";
import type { ReceivedWebhook } from "../../scripts/local-stack/webhook-sink";
import { api, type ProblemBody } from "../../test/harness/api";
import { createTenant, PLATFORM_ADMIN_TOKEN } from "../../test/harness/fixtures";
import { eventually } from "../../test/harness/observability";
import { newId } from "../lib/ids";
import { newLogger } from "../lib/logger";
import { verifyWebhookSignature, type WebhookEnvelope } from "../lib/webhooks";
import type { ExecuteAgentResponse } from "../routes/agents/execute-agent";
import type { AgentResponse } from "../routes/agents/schemas";
import { withTenantDb } from "../routes/conversations/test-fixtures";
import { createCollection } from "../routes/rag-documents/test-fixtures";
import { createWorkflow } from "../routes/workflow-executions/test-fixtures";
import { recordUsageEvents } from "../usage/record";
import {
  type Hold,
  periodOf,
  periodState,
  QUOTA_WARNING_HEADER,
  releaseBudget,
  reserveBudget,
} from "./budget";
import type { QuotaReport } from "./report";
import { announceBudgetCrossings, type BudgetCrossing } from "./thresholds";

const SINK = (env as unknown as { WEBHOOK_SINK_URL: string }).WEBHOOK_SINK_URL;

async function received(path: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${SINK}/__received?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { received: ReceivedWebhook[] }).received;
}

/** The budget webhooks the sink received at `path`, once `count` have arrived. */
async function budgetWebhooks(path: string, count: number): Promise<ReceivedWebhook[]> {
  return eventually(
    () => received(path),
    (hits) => hits.length >= count,
  );
}

const admin = PLATFORM_ADMIN_TOKEN;

function hold(tokens: number, microUsd = 0, expiresInMs = 600_000): Hold {
  return { tokens, microUsd, runId: newId(), expiresAt: new Date(Date.now() + expiresInMs) };
}

/** Each hold in its own transaction on its own connection, as concurrent model calls make them. */
function reserve(tenantId: string, budget: { tokens: number | null; microUsd: number | null }, h: Hold) {
  return withTenantDb(tenantId, (db) => reserveBudget(db, budget, h));
}

async function quotas(token: string): Promise<QuotaReport> {
  const res = await api.get<QuotaReport>("/v1/quotas", { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function createAgent(token: string, name = "budgeted", maxTokens = 200): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name, model: "claude-sonnet-4-6", resourceLimits: { maxTokens } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function execute(token: string, agentId: string, message = "Hello there") {
  return api.post<ExecuteAgentResponse | ProblemBody>(`/v1/agents/${agentId}/execute`, {
    token,
    body: { message },
  });
}

/** The tenant's model tokens and cost as the raw usage events add them up. */
async function eventTotals(tenantId: string): Promise<{ tokens: number; microUsd: number }> {
  const rows = await withTenantDb(tenantId, (db) => db.select().from(usageEvents));
  return {
    tokens: rows.filter((r) => r.meter.startsWith("model_")).reduce((sum, r) => sum + r.quantity, 0),
    microUsd: rows.reduce((sum, r) => sum + r.costMicroUsd, 0),
  };
}

function upload(token: string, collectionId: string, content: string) {
  return api.post<ProblemBody>("/v1/rag/documents", { token, body: { collectionId, content } });
}

describe("budget holds", () => {
  it("admits the hold that reaches the budget exactly and refuses the one that would cross it", async () => {
    const { tenant } = await createTenant();
    const budget = { tokens: 1000, microUsd: null };
    const first = await reserve(tenant.id, budget, hold(600));
    expect(first).not.toBeNull();
    expect(await reserve(tenant.id, budget, hold(400))).not.toBeNull();
    expect(await reserve(tenant.id, budget, hold(1))).toBeNull();
    // A hold bigger than the whole budget never fits, even in an empty month.
    const other = await createTenant();
    expect(await reserve(other.tenant.id, budget, hold(1001))).toBeNull();

    // Releasing is idempotent: the second release returns nothing twice.
    await withTenantDb(tenant.id, (db) => releaseBudget(db, first as string));
    await withTenantDb(tenant.id, (db) => releaseBudget(db, first as string));
    const state = await withTenantDb(tenant.id, (db) => periodState(db));
    expect(state).toMatchObject({ reservedTokens: 400, spentTokens: 0 });
    expect(await reserve(tenant.id, budget, hold(600))).not.toBeNull();
    expect(await reserve(tenant.id, budget, hold(1))).toBeNull();
  });

  it("lets exactly as many concurrent holds through as the budget has room for", async () => {
    const { tenant } = await createTenant();
    const budget = { tokens: null, microUsd: 1_000 };
    const results = await Promise.all(
      Array.from({ length: 16 }, () => reserve(tenant.id, budget, hold(10, 100))),
    );
    expect(results.filter((id) => id !== null)).toHaveLength(10);
    const state = await withTenantDb(tenant.id, (db) => periodState(db));
    expect(state.reservedMicroUsd).toBe(1_000);
  });

  it("counts spent and held together, and a redelivered usage event adds no spend", async () => {
    const { tenant } = await createTenant();
    const event = {
      eventKey: `model_call:${newId()}:1:model_output_tokens`,
      meter: "model_output_tokens" as const,
      quantity: 700,
      unit: "tokens" as const,
      costMicroUsd: 2_100,
    };
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, [event]));
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, [event]));
    const state = await withTenantDb(tenant.id, (db) => periodState(db));
    expect(state).toMatchObject({ spentTokens: 700, spentMicroUsd: 2_100, period: periodOf() });
    expect(await reserve(tenant.id, { tokens: 1000, microUsd: null }, hold(301))).toBeNull();
    expect(await reserve(tenant.id, { tokens: 1000, microUsd: null }, hold(300))).not.toBeNull();
  });

  it("the housekeeping sweep returns expired holds (runs lost mid-call) and leaves live ones", async () => {
    const { tenant } = await createTenant();
    const budget = { tokens: 1000, microUsd: null };
    await reserve(tenant.id, budget, hold(300, 0, -1_000));
    await reserve(tenant.id, budget, hold(200));
    const bindings = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string };
    const client = await connect({
      DATABASE_URL: bindings.DATABASE_URL,
      NEON_WS_PROXY: bindings.NEON_WS_PROXY,
    });
    try {
      expect(await releaseExpiredReservations(client)).toBeGreaterThanOrEqual(1);
    } finally {
      await client.end();
    }
    const state = await withTenantDb(tenant.id, (db) => periodState(db));
    expect(state.reservedTokens).toBe(200);
  });
});

describe("budgets on agent runs", () => {
  it("runs until the token budget has no room for another call, then answers 402; the spend never passes the budget", async () => {
    const { tenant, token } = await createTenant({ limits: { monthlyTokenBudget: 320 } });
    const agent = await createAgent(token);
    const statuses: number[] = [];
    let refusal: ProblemBody | undefined;
    for (let i = 0; i < 10 && !refusal; i++) {
      const res = await execute(token, agent.id);
      statuses.push(res.status);
      if (res.status !== 200) refusal = res.body as ProblemBody;
    }
    expect(statuses[0]).toBe(200);
    expect(refusal, `statuses: ${statuses}`).toBeDefined();
    expect(refusal).toMatchObject({ status: 402, code: "PAYMENT_REQUIRED" });

    const totals = await eventTotals(tenant.id);
    expect(totals.tokens).toBeGreaterThan(0);
    expect(totals.tokens).toBeLessThanOrEqual(320);
    // Refused only when another call's hold (its 200 output tokens plus the input estimate,
    // well under 50 here) no longer fit: the budget was used up to within one hold.
    expect(totals.tokens).toBeGreaterThan(320 - 200 - 50);
    const report = await quotas(token);
    expect(report.used).toMatchObject({
      tokens: totals.tokens,
      costMicroUsd: totals.microUsd,
      heldTokens: 0,
    });
    expect(report.remaining.monthlyTokenBudget).toBe(320 - totals.tokens);
    expect(report.quotas.monthlyTokenBudget).toBe(320);
  });

  it("refuses a run up front with the budget's name once spent reaches the budget", async () => {
    const { tenant, token } = await createTenant({ limits: { monthlyCostBudgetMicroUsd: 1_000 } });
    const agent = await createAgent(token);
    await withTenantDb(tenant.id, (db) =>
      db.insert(budgetPeriods).values({ tenantId: tenant.id, period: periodOf(), spentMicroUsd: 1_000 }),
    );
    const res = await execute(token, agent.id);
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ code: "PAYMENT_REQUIRED", limit: "monthlyCostBudgetMicroUsd" });
  });

  it("concurrent runs cannot race past the budget together", async () => {
    // Room for one call's hold (about 210 tokens) at a time, and for at most three small runs
    // (16 tokens each) in all, however the six requests interleave.
    const { tenant, token } = await createTenant({ limits: { monthlyTokenBudget: 250 } });
    const agent = await createAgent(token);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => execute(token, agent.id, `Hello ${i}`)),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 402),
      String(statuses),
    ).toBe(true);
    const succeeded = statuses.filter((s) => s === 200).length;
    expect(succeeded).toBeGreaterThanOrEqual(1);
    expect(succeeded).toBeLessThanOrEqual(3);
    expect((await eventTotals(tenant.id)).tokens).toBeLessThanOrEqual(250);
    expect((await quotas(token)).used.heldTokens).toBe(0);
  });

  it("warns past the warning share of a budget", async () => {
    const { tenant, token } = await createTenant({
      limits: { monthlyCostBudgetMicroUsd: 10_000_000, budgetWarningPercent: 50 },
    });
    const agent = await createAgent(token);
    const quiet = await execute(token, agent.id);
    expect(quiet.status).toBe(200);
    expect(quiet.headers.get(QUOTA_WARNING_HEADER)).toBeNull();
    await withTenantDb(tenant.id, (db) =>
      db
        .insert(budgetPeriods)
        .values({ tenantId: tenant.id, period: periodOf(), spentMicroUsd: 6_000_000 })
        .onConflictDoUpdate({
          target: [budgetPeriods.tenantId, budgetPeriods.period],
          set: { spentMicroUsd: 6_000_000 },
        }),
    );
    const warned = await execute(token, agent.id);
    expect(warned.status).toBe(200);
    expect(warned.headers.get(QUOTA_WARNING_HEADER)).toMatch(/^budget-used=60(\.\d)?%; threshold=50%$/);
    expect((await quotas(token)).warning).toBe(true);
  });
});

describe("budgets on workflow starts and knowledge-base answers", () => {
  async function spend(tenantId: string, microUsd: number): Promise<void> {
    await withTenantDb(tenantId, (db) =>
      db
        .insert(budgetPeriods)
        .values({ tenantId, period: periodOf(), spentMicroUsd: microUsd })
        .onConflictDoUpdate({
          target: [budgetPeriods.tenantId, budgetPeriods.period],
          set: { spentMicroUsd: microUsd },
        }),
    );
  }

  it("warn past the warning share, and a used-up budget refuses a workflow start with 402", async () => {
    const { tenant, token } = await createTenant({
      limits: { monthlyCostBudgetMicroUsd: 10_000_000, budgetWarningPercent: 50 },
    });
    const workflow = await createWorkflow(token, { steps: [{ id: "noop", type: "transform", output: {} }] });
    const collection = await createCollection(token);
    const start = () =>
      api.post<ProblemBody>(`/v1/workflows/${workflow.id}/execute`, { token, body: { input: {} } });
    const ask = () =>
      api.post<ProblemBody>("/v1/rag/query", {
        token,
        body: { query: "Anything about refunds?", collectionIds: [collection.id] },
      });

    const quiet = await start();
    expect(quiet.status).toBe(202);
    expect(quiet.headers.get(QUOTA_WARNING_HEADER)).toBeNull();
    expect((await ask()).headers.get(QUOTA_WARNING_HEADER)).toBeNull();

    await spend(tenant.id, 7_000_000);
    const warned = await start();
    expect(warned.status).toBe(202);
    expect(warned.headers.get(QUOTA_WARNING_HEADER)).toMatch(/^budget-used=70(\.\d)?%; threshold=50%$/);
    const answered = await ask();
    expect(answered.status).toBe(200);
    expect(answered.headers.get(QUOTA_WARNING_HEADER)).toMatch(/^budget-used=70(\.\d)?%; threshold=50%$/);

    await spend(tenant.id, 10_000_000);
    const refused = await start();
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ code: "PAYMENT_REQUIRED", limit: "monthlyCostBudgetMicroUsd" });
    expect((await ask()).status).toBe(402);
  });
});

describe("budget webhooks", () => {
  const outputEvent = (tokens: number) => ({
    eventKey: `model_call:${newId()}:1:model_output_tokens`,
    meter: "model_output_tokens" as const,
    quantity: tokens,
    unit: "tokens" as const,
    costMicroUsd: 0,
  });

  it("announces 50, 80 and 100 % of a budget once each, signed, through the real queue", async () => {
    const path = `/billing/${crypto.randomUUID()}`;
    const { tenant, token } = await createTenant({ limits: { monthlyTokenBudget: 1000 } });
    const patched = await api.patch("/v1/tenant", {
      token,
      body: { settings: { billingWebhookUrl: `${SINK}${path}` } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const notifier = { queue: env.JOBS, policy: { allowPrivate: true }, logger: newLogger("silent") };
    const record = (events: ReturnType<typeof outputEvent>[]) =>
      withTenantDb(tenant.id, async (db) => {
        await announceBudgetCrossings(db, await recordUsageEvents(db, events), notifier);
      });

    const first = outputEvent(400);
    await record([first]);
    await record([first]); // redelivered: no spend, no announcement
    await record([outputEvent(450)]); // 850: crosses 50 and 80 in one step
    await record([outputEvent(200)]); // 1050: crosses 100
    await record([outputEvent(10)]);

    const hits = await budgetWebhooks(path, 3);
    const secret = (await api.get<{ secret: string }>("/v1/webhooks/signing-secret", { token })).body.secret;
    const envelopes = [];
    for (const hit of hits) {
      expect(await verifyWebhookSignature(secret, hit.headers["meridian-signature"] ?? "", hit.body)).toBe(
        true,
      );
      envelopes.push(JSON.parse(hit.body) as WebhookEnvelope & { data: BudgetCrossing });
    }
    const period = periodOf();
    expect(envelopes.map((e) => [e.type, e.data.thresholdPercent, e.data.spent]).sort()).toEqual([
      ["budget.threshold_crossed", 100, 1050],
      ["budget.threshold_crossed", 50, 850],
      ["budget.threshold_crossed", 80, 850],
    ]);
    expect(envelopes.map((e) => e.id).sort()).toEqual(
      [50, 80, 100].map((p) => `budget.threshold_crossed:${period}:monthlyTokenBudget:${p}`).sort(),
    );
    expect(envelopes[0]?.data).toMatchObject({
      tenantId: tenant.id,
      period,
      budget: "monthlyTokenBudget",
      limit: 1000,
    });
    // Nothing more arrives: each threshold once a month.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await received(path)).toHaveLength(3);
  });

  it("an agent run's usage announces the thresholds it crosses", async () => {
    const path = `/billing/${crypto.randomUUID()}`;
    const { token } = await createTenant({ limits: { monthlyTokenBudget: 100, budgetWarningPercent: 60 } });
    await api.patch("/v1/tenant", { token, body: { settings: { billingWebhookUrl: `${SINK}${path}` } } });
    const agent = await createAgent(token, "small", 20);
    let last = 200;
    for (let i = 0; i < 12 && last === 200; i++) last = (await execute(token, agent.id)).status;
    expect(last).toBe(402);
    const spent = (await quotas(token)).used.tokens;
    const expected = [50, 60, 80, 100].filter((p) => spent >= p);
    const hits = await budgetWebhooks(path, expected.length);
    const percents = hits.map((h) => (JSON.parse(h.body) as { data: BudgetCrossing }).data.thresholdPercent);
    expect(percents.sort((a, b) => a - b)).toEqual(expected);
    expect(expected).toContain(60);
  });

  it("refuses a billing webhook URL the outbound policy would not call (422): credentials in the URL", async () => {
    const { token } = await createTenant();
    const res = await api.patch<ProblemBody>("/v1/tenant", {
      token,
      body: { settings: { billingWebhookUrl: "https://user:secret@billing.example.com/hooks" } },
    });
    expect(res.status).toBe(422);
  });
});

describe("count and storage quotas", () => {
  it("refuses the agent past maxAgents with 429 QUOTA_EXCEEDED, and counts deleted ones out", async () => {
    const { token } = await createTenant({ limits: { maxAgents: 2 } });
    const first = await createAgent(token, "a1");
    await createAgent(token, "a2");
    const third = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: { name: "a3", model: "claude-sonnet-4-6" },
    });
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ code: "QUOTA_EXCEEDED", limit: "maxAgents" });
    expect((await api.delete(`/v1/agents/${first.id}`, { token })).status).toBe(204);
    await createAgent(token, "a3");
    // Restoring the deleted one would make three.
    const restored = await api.post<ProblemBody>(`/v1/agents/${first.id}/restore`, { token });
    expect(restored.status).toBe(429);
    const report = await quotas(token);
    expect(report.used.agents).toBe(2);
    expect(report.remaining.maxAgents).toBe(0);
  });

  it("concurrent creates cannot pass maxCollections together", async () => {
    const { token } = await createTenant({ limits: { maxCollections: 3 } });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.post("/v1/rag/collections", { token, body: { name: `c${i}` } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(5);
    expect((await quotas(token)).used.collections).toBe(3);
  });

  it("caps documents by count and by stored bytes; the same upload again is not a new document", async () => {
    const { token } = await createTenant({ limits: { maxDocuments: 2, maxStorageBytes: 64 } });
    const collection = await createCollection(token);
    const small = await upload(token, collection.id, "twenty bytes of text");
    expect(small.status).toBe(202);
    expect((await upload(token, collection.id, "twenty bytes of text")).status).not.toBe(429);
    const tooBig = await upload(token, collection.id, "x".repeat(50));
    expect(tooBig.status).toBe(429);
    expect(tooBig.body).toMatchObject({ code: "QUOTA_EXCEEDED", limit: "maxStorageBytes" });
    expect((await upload(token, collection.id, "another small one")).status).toBe(202);
    const third = await upload(token, collection.id, "a third");
    expect(third.body).toMatchObject({ code: "QUOTA_EXCEEDED", limit: "maxDocuments" });
    expect((await quotas(token)).used).toMatchObject({ documents: 2, storageBytes: 37 });
  });
});

describe("quota routes", () => {
  it("the platform admin replaces a tenant's ceilings and quotas; the change is audited", async () => {
    const { tenant, token } = await createTenant({ limits: { maxTokens: 2000 } });
    const path = `/v1/tenants/${tenant.id}/quotas`;
    const put = await api.put<{ configured: Record<string, number>; report: QuotaReport }>(path, {
      token: admin,
      body: { requestsPerMinute: 300, monthlyTokenBudget: 1_000_000, maxAgents: 5 },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.configured).toEqual({
      requestsPerMinute: 300,
      monthlyTokenBudget: 1_000_000,
      maxAgents: 5,
    });
    expect(put.body.report.quotas).toMatchObject({
      monthlyTokenBudget: 1_000_000,
      maxAgents: 5,
      maxCollections: null,
    });
    expect(put.body.report.limits).toMatchObject({ requestsPerMinute: 300 });

    const got = await api.get<{ configured: Record<string, number> }>(path, { token: admin });
    expect(got.body.configured).toEqual(put.body.configured);
    const own = await quotas(token);
    expect(own.quotas.maxAgents).toBe(5);

    const log = await api.get<{ data: { changes: unknown }[] }>(
      "/v1/audit-logs?action=tenant.quotas.update",
      {
        token,
      },
    );
    expect(log.body.data[0]?.changes).toEqual({ before: { maxTokens: 2000 }, after: put.body.configured });
  });

  it("validates quotas (400) and keeps them from tenants themselves (403) and from other tenants", async () => {
    const a = await createTenant();
    const b = await createTenant({ limits: { maxAgents: 1 } });
    const path = `/v1/tenants/${a.tenant.id}/quotas`;
    for (const body of [
      { maxAgents: 0 },
      { budgetWarningPercent: 101 },
      { unknownQuota: 5 },
      { maxAgents: 1.5 },
    ]) {
      const res = await api.put<ProblemBody>(path, { token: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await api.put(path, { token: a.token, body: { maxAgents: 1000 } })).status).toBe(403);
    expect((await api.get(path, { token: a.token })).status).toBe(403);
    expect((await api.get(`/v1/tenants/${b.tenant.id}/quotas`, { token: a.token })).status).toBe(403);
    // Tenant A's report shows A's quotas, not B's.
    expect((await quotas(a.token)).quotas.maxAgents).toBeNull();
    expect((await quotas(b.token)).quotas.maxAgents).toBe(1);
    const unknown = await api.get(`/v1/tenants/${newId()}/quotas`, { token: admin });
    expect(unknown.status).toBe(404);
  });

  it("GET /v1/quotas is for owners and admins (it shows spend)", async () => {
    const { keyWithRole } = await createTenant();
    expect((await api.get("/v1/quotas", { token: await keyWithRole("member") })).status).toBe(403);
    expect((await api.get("/v1/quotas", { token: await keyWithRole("admin") })).status).toBe(200);
    expect((await api.get("/v1/quotas")).status).toBe(401);
  });
});
