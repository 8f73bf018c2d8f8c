import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { mcpToolExecutions } from "../../../db/schema";
import { usageEvents } from "../../../db/schema/usage";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { scriptModel } from "../../../test/harness/model";
import { openEvents } from "../../../test/harness/sse";
import worker from "../../index";
import { recordUsageEvents } from "../../usage/record";
import type { AgentRunResponse } from "../agent-runs/schemas";
import type { ExecuteAgentResponse } from "../agents/execute-agent";
import type { AgentResponse } from "../agents/schemas";
import { withTenantDb } from "../conversations/test-fixtures";
import { createCollection, settled, uploadText } from "../rag-documents/test-fixtures";
import type { UsageReport } from "./schemas";

type UsageRow = typeof usageEvents.$inferSelect;

async function createAgent(token: string, extra: Record<string, unknown> = {}): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name: "metered", model: "claude-sonnet-4-6", ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function execute(token: string, agentId: string, message: string): Promise<ExecuteAgentResponse> {
  const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${agentId}/execute`, {
    token,
    body: { message },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The tenant's raw usage rows, read under RLS as a request would. */
function rawEvents(tenantId: string): Promise<UsageRow[]> {
  return withTenantDb(tenantId, (db) => db.select().from(usageEvents));
}

function sumOf<T>(rows: readonly T[], pick: (r: T) => number): number {
  return rows.reduce((sum, r) => sum + pick(r), 0);
}

async function usage(token: string, query = ""): Promise<UsageReport> {
  const res = await api.get<UsageReport>(`/v1/usage${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Delivers one `rag_ingest` message to the real consumer, as the queue would redeliver it. */
async function deliverIngest(tenantId: string, documentId: string, generation: number): Promise<void> {
  const batch = createMessageBatch<unknown>("meridian-jobs", [
    {
      id: `redelivery-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 2,
      body: { type: "rag_ingest", tenantId, documentId, generation },
    },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  const result = await getQueueResult(batch, ctx);
  expect(result.explicitAcks).toHaveLength(1);
}

describe("usage metering", () => {
  it("meters every model call of a run with the run's tokens and cost, and GET /v1/usage adds up to the raw events", async () => {
    const { token, tenant, owner } = await createTenant();
    const echo = await createAgent(token);
    const calc = await createAgent(token, { tools: [{ name: "calculator", type: "builtin" }] });
    const first = await execute(token, echo.id, "Hello there");
    const second = await execute(token, calc.id, "What is 2 + 3?");
    expect(second.run.modelCalls).toBe(2);

    const rows = await rawEvents(tenant.id);
    for (const run of [first.run, second.run]) {
      const mine = rows.filter((r) => r.resourceType === "agent_run" && r.resourceId === run.id);
      const of = (meter: string) =>
        sumOf(
          mine.filter((r) => r.meter === meter),
          (r) => r.quantity,
        );
      expect(of("model_input_tokens")).toBe(run.inputTokens);
      expect(of("model_output_tokens")).toBe(run.outputTokens);
      expect(of("model_cache_write_tokens")).toBe(run.cacheCreationInputTokens);
      expect(of("model_cache_read_tokens")).toBe(run.cacheReadInputTokens);
      expect(sumOf(mine, (r) => r.costMicroUsd)).toBe(run.costMicroUsd);
      expect(of("tool_calls")).toBe(run.toolCalls);
      for (const row of mine) {
        expect(row).toMatchObject({ agentId: run.agentId, userId: owner.id, apiKeyId: null });
        if (row.meter === "tool_calls") {
          expect(row.eventKey).toMatch(new RegExp(`^agent_tool_call:${run.id}:1:[^:]+:tool_calls$`));
          expect(row.costMicroUsd).toBe(0);
        } else {
          expect(row.model).toBe("claude-sonnet-4-6");
          expect(row.eventKey).toMatch(new RegExp(`^model_call:${run.id}:[12]:${row.meter}$`));
        }
      }
    }
    // Two runs, three model calls (each with input and output tokens at least), one tool call.
    const keys = rows.map((r) => r.eventKey.split(":").slice(0, 3).join(":"));
    expect(new Set(keys.filter((k) => k.startsWith("model_call:"))).size).toBe(3);
    expect(rows.filter((r) => r.meter === "tool_calls")).toHaveLength(1);

    const report = await usage(token);
    const cost = sumOf(rows, (r) => r.costMicroUsd);
    expect(report.totals.costMicroUsd).toBe(cost);
    expect(cost).toBe(first.run.costMicroUsd + second.run.costMicroUsd);
    for (const meter of new Set(rows.map((r) => r.meter))) {
      const meterRows = rows.filter((r) => r.meter === meter);
      expect(report.totals.byMeter[meter]).toEqual({
        quantity: sumOf(meterRows, (r) => r.quantity),
        costMicroUsd: sumOf(meterRows, (r) => r.costMicroUsd),
      });
    }
    // Ungrouped, there is one group per meter.
    expect(report.groups.map((g) => g.meter).sort()).toEqual([...new Set(rows.map((r) => r.meter))].sort());

    // By agent and day: each agent's input tokens are its run's; the day is today (UTC).
    const byAgent = await usage(token, "?groupBy=agent,day");
    const input = (agentId: string) =>
      byAgent.groups.find((g) => g.agentId === agentId && g.meter === "model_input_tokens");
    expect(input(echo.id)).toMatchObject({
      quantity: first.run.inputTokens,
      day: new Date().toISOString().slice(0, 10),
    });
    expect(input(calc.id)?.quantity).toBe(second.run.inputTokens);
    expect(sumOf(byAgent.groups, (g) => g.costMicroUsd)).toBe(cost);

    const byModel = await usage(token, "?groupBy=model,user");
    expect(byModel.groups.every((g) => g.userId === owner.id)).toBe(true);
    expect(byModel.groups.map((g) => [g.meter, g.model])).toEqual(
      expect.arrayContaining([
        ["model_input_tokens", "claude-sonnet-4-6"],
        ["model_output_tokens", "claude-sonnet-4-6"],
        ["tool_calls", null],
      ]),
    );
    expect(byModel.groups).toHaveLength(report.groups.length);

    const byHour = await usage(token, "?groupBy=hour,key");
    expect(byHour.groups.every((g) => /T\d\d:00:00Z$/.test(g.hour ?? "") && g.apiKeyId === null)).toBe(true);
    expect(sumOf(byHour.groups, (g) => g.costMicroUsd)).toBe(cost);

    // A range that ends before the runs holds none of them.
    const before = await usage(token, "?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z");
    expect(before).toMatchObject({ groups: [], totals: { byMeter: {}, costMicroUsd: 0 } });
  });

  it("charges a run started with an API key to the key", async () => {
    const fixture = await createTenant();
    const key = await fixture.keyWithRole("member");
    const agent = await createAgent(fixture.token);
    const res = await execute(key, agent.id, "Hi");
    const rows = await rawEvents(fixture.tenant.id);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.userId === null && r.apiKeyId !== null)).toBe(true);
    const byKey = await usage(fixture.token, "?groupBy=key");
    expect(byKey.groups.every((g) => g.apiKeyId === rows[0]?.apiKeyId)).toBe(true);
    expect(byKey.totals.costMicroUsd).toBe(res.run.costMicroUsd);
  });

  it("meters the tokens of a model call a cancel cut off, as the run's totals count them", async () => {
    const { token, tenant } = await createTenant();
    const agent = await createAgent(token);
    const scenario = await scriptModel([
      {
        message: {
          content: [{ type: "text", text: "one two three four five six seven eight" }],
          usage: { input_tokens: 50, output_tokens: 40 },
        },
        eventDelayMs: 1500,
      },
    ]);
    const stream = await openEvents("POST", `/v1/agents/${agent.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: "Count slowly", stream: true },
    });
    const runId = stream.headers.get("x-run-id") ?? "";
    await stream.until("message_started");
    const cancel = await api.post(`/v1/agent-runs/${runId}/cancel`, { token });
    expect(cancel.status).toBe(202);
    await stream.rest();
    const run = (await api.get<AgentRunResponse>(`/v1/agent-runs/${runId}`, { token })).body;
    expect(run.status).toBe("cancelled");
    expect(run.inputTokens).toBe(50);
    const rows = await rawEvents(tenant.id);
    expect(rows.find((r) => r.meter === "model_input_tokens")).toMatchObject({
      eventKey: `model_call:${runId}:1:model_input_tokens`,
      quantity: 50,
    });
    expect(sumOf(rows, (r) => r.costMicroUsd)).toBe(run.costMicroUsd);
  });

  it("records a work item once: a replayed key writes nothing", async () => {
    const { tenant } = await createTenant();
    const event = {
      eventKey: `model_call:${crypto.randomUUID()}:1:model_input_tokens`,
      meter: "model_input_tokens",
      quantity: 100,
      unit: "tokens",
      costMicroUsd: 300,
    } as const;
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, [event]));
    await withTenantDb(tenant.id, (db) => recordUsageEvents(db, [{ ...event, quantity: 999 }]));
    const rows = await rawEvents(tenant.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.quantity).toBe(100);
  });

  it("meters a document's embedding tokens and chunks exactly once under redelivery, and again on re-ingest", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const doc = await uploadText(
      token,
      collection.id,
      "Refunds go back to the original card within 30 days.",
    );
    const indexed = await settled(token, doc.id);
    expect(indexed.status, indexed.statusReason ?? "").toBe("indexed");

    // The queue delivers the same message again (at-least-once): nothing more is billed.
    await deliverIngest(tenant.id, doc.id, 1);
    await deliverIngest(tenant.id, doc.id, 1);
    let rows = await rawEvents(tenant.id);
    expect(rows.map((r) => r.eventKey).sort()).toEqual([
      `document:${doc.id}:1:chunks`,
      `document:${doc.id}:1:embedding_tokens`,
      // Metered once when the upload was accepted (workers/usage/stored-documents.test.ts).
      `stored_document:${doc.id}:documents`,
      `stored_document:${doc.id}:storage_bytes`,
    ]);
    const embedding = rows.find((r) => r.meter === "embedding_tokens");
    expect(embedding).toMatchObject({
      quantity: indexed.embeddingTokens,
      unit: "tokens",
      model: collection.embedding.model,
      resourceType: "document",
      resourceId: doc.id,
    });
    expect(rows.find((r) => r.meter === "chunks")?.quantity).toBe(indexed.chunkCount);

    // A re-ingest is new work (generation 2): billed once more, and only once.
    const reingest = await api.post(`/v1/rag/documents/${doc.id}/reingest`, { token });
    expect(reingest.status).toBe(202);
    const again = await settled(token, doc.id);
    expect(again.generation).toBe(2);
    await deliverIngest(tenant.id, doc.id, 2);
    rows = await rawEvents(tenant.id);
    const embeddings = rows.filter((r) => r.meter === "embedding_tokens");
    expect(embeddings.map((r) => r.eventKey).sort()).toEqual([
      `document:${doc.id}:1:embedding_tokens`,
      `document:${doc.id}:2:embedding_tokens`,
    ]);
    const report = await usage(token);
    expect(report.totals.byMeter.embedding_tokens?.quantity).toBe(sumOf(embeddings, (r) => r.quantity));
  });

  it("meters each MCP tool call once, keyed by its execution", async () => {
    const { token, tenant, owner } = await createTenant();
    for (const b of [2, 3]) {
      const res = await api.post("/v1/mcp/execute", {
        token,
        body: { server: "calculator", tool: "multiply", input: { a: 1, b } },
      });
      expect(res.status).toBe(200);
    }
    const executions = await withTenantDb(tenant.id, (db) => db.select().from(mcpToolExecutions));
    const rows = await rawEvents(tenant.id);
    expect(rows.map((r) => r.resourceId).sort()).toEqual(executions.map((e) => e.id).sort());
    expect(rows.every((r) => r.meter === "tool_calls" && r.quantity === 1 && r.userId === owner.id)).toBe(
      true,
    );
    expect((await usage(token)).totals.byMeter.tool_calls).toEqual({ quantity: 2, costMicroUsd: 0 });
  });

  it("keeps each tenant's usage behind the wall", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const agent = await createAgent(a.token);
    await execute(a.token, agent.id, "Only mine");
    expect((await rawEvents(a.tenant.id)).length).toBeGreaterThan(0);
    expect(await rawEvents(b.tenant.id)).toEqual([]);
    const report = await usage(b.token, "?groupBy=agent,model,user");
    expect(report).toMatchObject({ groups: [], totals: { byMeter: {}, costMicroUsd: 0 } });
  });

  it("validates the query and requires usage:read", async () => {
    const fixture = await createTenant();
    for (const query of [
      "?groupBy=day,tenant",
      "?groupBy=",
      "?from=yesterday",
      "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ]) {
      const res = await api.get<ProblemBody>(`/v1/usage${query}`, { token: fixture.token });
      expect(res.status, query).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
    }
    const month = await usage(fixture.token);
    const now = new Date();
    expect(month.from).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
    expect(month.to).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    await expectAuthRequired({ method: "get", path: "/v1/usage" });
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/usage" },
      {
        allowed: ["owner", "admin"],
        denied: ["member", "viewer"],
      },
    );
  });
});
