import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { ReceivedSpan } from "../../../scripts/local-stack/fake-otlp-receiver";
import { api } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { scriptModel } from "../../../test/harness/model";
import { eventually, KIND, OTLP_URL, receivedSpans, requestSpan } from "../../../test/harness/observability";
import worker from "../../index";
import type { AgentTaskResponse } from "../../routes/agent-tasks/schemas";
import type { AgentResponse } from "../../routes/agents/schemas";
import { createWorkflow, waitFor } from "../../routes/workflow-executions/test-fixtures";
import { type TracingSettings, tracingSettings } from "./config";
import { loadTracing } from "./load";
import { annotateRequestSpan } from "./spans";

/** Follows parent links from `span` up to the root of its trace. */
function ancestry(span: ReceivedSpan, trace: ReceivedSpan[]): string[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const names: string[] = [];
  let parent = byId.get(span.parentSpanId);
  while (parent) {
    names.push(parent.name);
    parent = byId.get(parent.parentSpanId);
  }
  return names;
}

describe("tracing", () => {
  it("joins a request, its queue job, the agent run the job starts, its model and tool calls in one trace", async () => {
    const { token, tenant } = await createTenant();
    const agent = await api.post<AgentResponse>("/v1/agents", {
      token,
      body: { name: "traced", model: "claude-sonnet-4-6", tools: [{ name: "calculator", type: "builtin" }] },
    });
    expect(agent.status).toBe(201);
    const scenario = await scriptModel([
      {
        message: {
          content: [{ type: "tool_use", name: "calculator", input: { operation: "add", a: 20417, b: 3 } }],
          stop_reason: "tool_use",
        },
      },
    ]);
    const marker = `do-not-trace-${crypto.randomUUID()}`;
    const started = await api.post<AgentTaskResponse>(`/v1/agents/${agent.body.id}/execute`, {
      token,
      headers: { "x-model-scenario": scenario },
      body: { message: `Summarise ${marker}`, async: true },
    });
    expect(started.status).toBe(202);
    const requestId = started.headers.get("x-request-id") as string;

    const root = await requestSpan(requestId);
    expect(root).toMatchObject({
      kind: KIND.server,
      parentSpanId: "",
      resource: { "service.name": "meridian-test" },
    });
    const traceId = root.traceId;

    // The consumer's span continues the trace: a child of the request's send to the queue.
    const consumer = await eventually(
      () => receivedSpans({ traceId, name: "process agent_task" }),
      (spans) => spans.length > 0,
      15_000,
    );
    expect(consumer[0]).toMatchObject({
      kind: KIND.consumer,
      attributes: {
        "messaging.system": "cloudflare",
        "meridian.job.type": "agent_task",
        "meridian.tenant_id": tenant.id,
      },
    });
    // The run the job started, in its Durable Object, and its model call.
    const chat = await eventually(
      () => receivedSpans({ traceId, attributes: { "gen_ai.operation.name": "chat" } }),
      (spans) => spans.length > 0,
      15_000,
    );
    const trace = await receivedSpans({ traceId });
    const send = trace.find((s) => s.name === "send JOBS");
    expect(send).toMatchObject({ kind: KIND.producer, parentSpanId: root.spanId });
    expect(consumer[0]?.parentSpanId).toBe(send?.spanId);
    expect(ancestry(chat[0] as ReceivedSpan, trace)).toEqual([
      "agent.run",
      "process agent_task",
      "send JOBS",
      root.name,
    ]);
    expect(chat[0]).toMatchObject({
      kind: KIND.client,
      attributes: { "gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-sonnet-4-6" },
    });
    expect(trace.find((s) => s.name === "agent.run")?.attributes).toMatchObject({
      "meridian.tenant_id": tenant.id,
      "meridian.agent_id": agent.body.id,
    });
    const tool = await eventually(
      () => receivedSpans({ traceId, name: "tool calculator" }),
      (spans) => spans.length > 0,
    );
    expect(tool[0]).toMatchObject({
      attributes: {
        "meridian.tool.kind": "builtin",
        "meridian.tool.status": "succeeded",
        "meridian.tenant_id": tenant.id,
      },
    });
    expect(ancestry(tool[0] as ReceivedSpan, trace)[0]).toBe("agent.run");
    // Database queries are spans with the operation and table, never the statement or its values.
    const queries = trace.filter((s) => s.attributes["db.system"] === "postgresql");
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) {
      expect(query.kind).toBe(KIND.client);
      expect(query.attributes).not.toHaveProperty("db.statement");
    }
    // Nothing a user wrote, and no tool input or output, reaches the collector.
    // Names, attributes and events only: the nanosecond timestamps may hold any digits.
    const everything = JSON.stringify(
      (await receivedSpans({ traceId })).map((s) => [s.name, s.attributes, s.events]),
    );
    expect(everything).not.toContain(marker);
    expect(everything).not.toContain("20417");
    expect(everything).not.toContain("20420");
  });

  it("puts a workflow's steps in the trace of the request that started it", async () => {
    const { token, tenant } = await createTenant();
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "first", type: "transform", output: { n: 1 } },
        { id: "second", type: "transform", output: { n: 2 } },
      ],
    });
    const res = await api.post<{ id: string }>(`/v1/workflows/${workflow.id}/execute`, {
      token,
      body: { input: {} },
    });
    expect(res.status).toBe(202);
    await waitFor(token, res.body.id, ["succeeded"]);
    const root = await requestSpan(res.headers.get("x-request-id") as string);

    const steps = await eventually(
      () =>
        receivedSpans({
          traceId: root.traceId,
          attributes: { "meridian.workflow.execution_id": res.body.id },
        }),
      (spans) => spans.length === 2,
    );
    expect(steps.map((s) => s.attributes["meridian.workflow.step_id"]).sort()).toEqual(["first", "second"]);
    for (const step of steps) {
      expect(step).toMatchObject({
        name: "workflow.step transform",
        parentSpanId: root.spanId,
        attributes: { "meridian.tenant_id": tenant.id, "meridian.workflow.id": workflow.id },
      });
    }
  });

  it("keeps query strings out of spans and sends the configured headers to the collector", async () => {
    const { token } = await createTenant();
    const id = crypto.randomUUID();
    const res = await api.get(`/v1/agents/${id}?cursor=secret-looking-value`, { token });
    expect(res.status).toBe(404);
    const root = await requestSpan(res.headers.get("x-request-id") as string);
    expect(root.attributes["http.url"]).toBe(`https://api.meridian.test/v1/agents/${id}`);
    expect(JSON.stringify(root)).not.toContain("secret-looking-value");
    const exports = (await (await fetch(`${OTLP_URL}/__exports`)).json()) as {
      exports: { headers: Record<string, string> }[];
    };
    expect(exports.exports.at(-1)?.headers["x-meridian-test"]).toBe("otlp-headers-reach-the-collector");
    expect(exports.exports.at(-1)?.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("names a request's span after its route and tags it with the request id and tenant", async () => {
    const settings = tracingSettings(env) as TracingSettings;
    const sdk = await loadTracing(settings);
    const requestId = `req_${crypto.randomUUID()}`;
    const tenantId = crypto.randomUUID();
    const handler = sdk.instrumentFetch(async () => {
      annotateRequestSpan({ method: "GET", route: "/v1/agents/:id", requestId, tenantId });
      return new Response("ok");
    }, settings);
    const ctx = createExecutionContext();
    await handler(
      new Request("https://api.meridian.test/v1/agents/x") as Request<unknown, IncomingRequestCfProperties>,
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await requestSpan(requestId)).toMatchObject({
      name: "GET /v1/agents/:id",
      kind: KIND.server,
      attributes: { "http.route": "/v1/agents/:id", "meridian.tenant_id": tenantId },
    });
  });

  it("writes the trace id on the log lines of a traced request", async () => {
    const { token } = await createTenant();
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request("https://api.meridian.test/v1/agents", {
          headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": "192.0.2.77" },
        }) as Request<unknown, IncomingRequestCfProperties>,
        { ...env, LOG_LEVEL: "info" },
        ctx,
      );
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
      const requestId = res.headers.get("x-request-id") as string;
      const root = await requestSpan(requestId);
      const access = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.msg === "request" && line.requestId === requestId);
      expect(access).toMatchObject({ requestId, traceId: root.traceId, spanId: root.spanId });
    } finally {
      spy.mockRestore();
    }
  });
});
