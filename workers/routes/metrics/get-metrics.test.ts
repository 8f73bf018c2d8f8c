import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, type ProblemBody, randomIp } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { fetchWorker, type Scrape, scrape } from "../../../test/harness/prometheus";
import { POLICIES } from "../../lib/rate-limit";
import type { ExecuteAgentResponse } from "../agents/execute-agent";
import type { AgentResponse } from "../agents/schemas";
import { createCollection, settled, uploadText } from "../rag-documents/test-fixtures";
import { runToEnd } from "../workflow-executions/test-fixtures";

/** Scrapes until `ready` holds: Durable Objects and queue consumers flush after their work ends. */
async function scrapeUntil(ready: (s: Scrape) => boolean, timeoutMs = 10_000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape();
    if (ready(s) || Date.now() > deadline) return s;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("GET /metrics", () => {
  it("counts each request once by route pattern and status, never by id", async () => {
    const namespace = `test-${crypto.randomUUID()}`;
    const { token } = await createTenant();
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const missing = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    for (const id of missing)
      expect((await fetchWorker(`/v1/agents/${id}`, auth, namespace)).status).toBe(404);
    for (let i = 0; i < 2; i++) expect((await fetchWorker("/v1/agents", auth, namespace)).status).toBe(200);

    const s = await scrape({ namespace });
    expect(s.value('meridian_http_requests_total{method="GET",route="/v1/agents/:id",status="404"}')).toBe(3);
    expect(s.value('meridian_http_requests_total{method="GET",route="/v1/agents",status="200"}')).toBe(2);
    expect(s.value('meridian_http_request_duration_seconds_count{method="GET",route="/v1/agents/:id"}')).toBe(
      3,
    );
    expect(
      s.value('meridian_http_request_duration_seconds_bucket{method="GET",route="/v1/agents",le="+Inf"}'),
    ).toBe(2);
    const keys = [...s.samples.keys()].join("\n");
    for (const id of missing) expect(keys).not.toContain(id);
  });

  it("refuses a scrape without the configured token, and counts the rate-limit rejections", async () => {
    const namespace = `test-${crypto.randomUUID()}`;
    const bare = await fetchWorker("/metrics", {}, namespace);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as ProblemBody).code).toBe("UNAUTHENTICATED");
    const wrong = await fetchWorker(
      "/metrics",
      { headers: { authorization: "Bearer not-the-token-at-all" } },
      namespace,
    );
    expect(wrong.status).toBe(401);

    // The per-account login policy: the same wrong login until it is refused twice.
    const login = JSON.stringify({
      tenant: `t-${crypto.randomUUID().slice(0, 8)}`,
      email: "nobody@example.com",
      password: "whatever-123",
    });
    let refused = 0;
    for (let i = 0; i < POLICIES.login.limit + 2; i++) {
      const res = await fetchWorker(
        "/v1/auth/login",
        {
          method: "POST",
          headers: { "content-type": "application/json", "cf-connecting-ip": randomIp() },
          body: login,
        },
        namespace,
      );
      if (res.status === 429) refused++;
    }
    expect(refused).toBe(2);
    const s = await scrape({ namespace });
    expect(s.value('meridian_http_requests_total{method="GET",route="/metrics",status="401"}')).toBe(2);
    const rejections = [...s.samples].filter(([k]) => k.startsWith("meridian_rate_limit_rejections_total"));
    expect(rejections.reduce((sum, [, v]) => sum + v, 0)).toBe(2);
    expect(s.value('meridian_http_requests_total{method="POST",route="/v1/auth/login",status="429"}')).toBe(
      2,
    );
  });

  it("counts MCP tool calls by outcome, whoever makes them", async () => {
    const namespace = `test-${crypto.randomUUID()}`;
    const { token } = await createTenant();
    const call = (input: Record<string, unknown>) =>
      fetchWorker(
        "/v1/mcp/execute",
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ server: "calculator", tool: "add", input }),
        },
        namespace,
      );
    expect((await call({ a: 1, b: 2 })).status).toBe(200);
    expect((await call({ a: 3, b: 4 })).status).toBe(200);
    const invalid = await call({ a: "one" });
    expect(invalid.status).toBe(200);
    const s = await scrape({ namespace });
    expect(s.value('meridian_tool_calls_total{type="mcp",outcome="ok"}')).toBe(2);
    expect(s.value('meridian_tool_calls_total{type="mcp",outcome="error"}')).toBe(1);
  });

  it("sums agent runs, tokens and cost by model over runs in separate Durable Objects", async () => {
    const { token } = await createTenant();
    const model = "claude-sonnet-5-5";
    const created = await api.post<AgentResponse>("/v1/agents", {
      token,
      body: { name: "counted", model, systemPrompt: "Be brief." },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const runsKey = `meridian_agent_runs_total{model="${model}",status="succeeded"}`;
    const inputKey = `meridian_model_tokens_total{model="${model}",kind="input"}`;
    const costKey = `meridian_model_cost_usd_total{model="${model}"}`;
    const before = await scrape();

    // Each run is its own AgentRun object; each flushes its own figures.
    const runs = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const res = await api.post<ExecuteAgentResponse>(`/v1/agents/${created.body.id}/execute`, {
          token,
          body: { message: `run ${n}` },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body.run;
      }),
    );
    const inputTokens = runs.reduce((sum, run) => sum + run.inputTokens, 0);
    const cost = runs.reduce((sum, run) => sum + run.costMicroUsd, 0) / 1_000_000;
    const after = await scrapeUntil((s) => s.value(runsKey) >= before.value(runsKey) + 3);
    // At least: other tests may run this model at the same time.
    expect(after.value(runsKey) - before.value(runsKey)).toBeGreaterThanOrEqual(3);
    expect(after.value(inputKey) - before.value(inputKey)).toBeGreaterThanOrEqual(inputTokens);
    expect(after.value(costKey) - before.value(costKey)).toBeGreaterThanOrEqual(cost - 1e-9);
    expect(
      after.value(`meridian_agent_run_duration_seconds_count{model="${model}"}`) -
        before.value(`meridian_agent_run_duration_seconds_count{model="${model}"}`),
    ).toBeGreaterThanOrEqual(3);
  });

  it("counts ingestion and workflow work, and reads the backlog gauges from PostgreSQL", async () => {
    const { token } = await createTenant();
    const indexedKey = 'meridian_ingestion_documents_total{outcome="indexed"}';
    const stepKey = 'meridian_workflow_step_duration_seconds_count{type="transform",status="succeeded"}';
    const doneKey = 'meridian_workflow_executions_total{status="succeeded"}';
    const before = await scrape();

    const collection = await createCollection(token);
    const doc = await uploadText(token, collection.id, "Metrics count what the consumer did.\n\nTwice over.");
    expect((await settled(token, doc.id)).status).toBe("indexed");
    const run = await runToEnd(token, { steps: [{ id: "only", type: "transform", output: { ok: true } }] });
    expect(run.status).toBe("succeeded");

    const after = await scrapeUntil(
      (s) => s.value(indexedKey) > before.value(indexedKey) && s.value(doneKey) > before.value(doneKey),
    );
    expect(after.value(indexedKey) - before.value(indexedKey)).toBeGreaterThanOrEqual(1);
    expect(
      after.value("meridian_ingestion_chunks_total") - before.value("meridian_ingestion_chunks_total"),
    ).toBeGreaterThanOrEqual(1);
    expect(after.value(stepKey) - before.value(stepKey)).toBeGreaterThanOrEqual(1);
    expect(after.value(doneKey) - before.value(doneKey)).toBeGreaterThanOrEqual(1);
    // Gauges: this tenant's document and execution are among PostgreSQL's counts; every status shows.
    expect(after.value('meridian_documents{status="indexed"}')).toBeGreaterThanOrEqual(1);
    expect(after.value('meridian_workflow_executions{status="succeeded"}')).toBeGreaterThanOrEqual(1);
    for (const status of ["queued", "parsing", "chunking", "embedding", "failed"])
      expect(after.samples.has(`meridian_documents{status="${status}"}`)).toBe(true);
    expect(after.samples.has('meridian_mcp_servers{health="unreachable"}')).toBe(true);
  });

  it("is served with the token the deployment configures", async () => {
    expect(env.METRICS_TOKEN).toBeTruthy();
    const res = await api.get<string>("/metrics", { token: env.METRICS_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body).toContain("# TYPE meridian_http_requests_total counter");
  });
});
