import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { openEvents } from "../../../test/harness/sse";
import type { ListAgentTasksResponse } from "../agent-tasks/list-agent-tasks";
import type { ListWorkflowExecutionsResponse } from "./list-workflow-executions";
import type { ExecutionDetailResponse, ExecutionResponse } from "./schemas";
import {
  attemptsOf,
  createWorkflow,
  execute,
  runToEnd,
  SINK,
  sinkPath,
  sinkReceived,
  waitFor,
} from "./test-fixtures";

describe("workflow executions: sequential flow and templates", () => {
  it("runs transforms in order, typed templates and $path selections, and the definition's output", async () => {
    const { token } = await createTenant({ settings: { named: { REGION: "eu" } } });
    const run = await runToEnd(
      token,
      {
        steps: [
          {
            id: "shape",
            type: "transform",
            output: {
              last: "{{input.items[-1].name}}",
              first: "{{input.items[0].name}}",
              region: "{{env.REGION}}",
            },
          },
          {
            id: "names",
            type: "transform",
            output: {
              all: { $path: "$.input.items[*].name" },
              label: "{{steps.shape.output.first}} in {{env.REGION}}",
            },
          },
        ],
        output: { names: "{{steps.names.output.all}}", label: "{{steps.names.output.label}}" },
      },
      { items: [{ name: "ada" }, { name: "alan" }] },
    );
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.output).toEqual({ names: ["ada", "alan"], label: "ada in eu" });
    expect(run.steps.map((s) => [s.stepId, s.status, s.attempt])).toEqual([
      ["shape", "succeeded", 1],
      ["names", "succeeded", 1],
    ]);
    expect(attemptsOf(run, "shape")[0]?.output).toEqual({ last: "alan", first: "ada", region: "eu" });
    expect(run.startedAt).not.toBeNull();
    expect(run.finishedAt).not.toBeNull();
  });

  it("fails the step (not an empty string) on an unresolved variable", async () => {
    const { token } = await createTenant();
    const run = await runToEnd(token, {
      steps: [{ id: "greet", type: "transform", output: { text: "hello {{input.name}}" } }],
    });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^greet: expression: .*input\.name/);
    expect(attemptsOf(run, "greet")[0]?.status).toBe("failed");
  });

  it("routes with a conditional step and skips the branch not taken", async () => {
    const { token } = await createTenant();
    const workflow = await createWorkflow(token, {
      steps: [
        {
          id: "route",
          type: "conditional",
          branches: [
            { when: { path: "$.input.score", op: "gte", value: 80 }, next: "high" },
            { when: { any: [{ path: "$.input.tags", op: "contains", value: "vip" }] }, next: "high" },
          ],
          default: "low",
        },
        { id: "high", type: "transform", output: { tier: "high" }, next: "end" },
        { id: "low", type: "transform", output: { tier: "low" } },
      ],
    });
    const results: Record<string, unknown> = {};
    for (const [name, input] of Object.entries({
      score: { score: 91, tags: [] },
      vip: { score: 10, tags: ["vip"] },
      none: { score: 10, tags: [] },
    })) {
      const started = await execute(token, workflow.id, input);
      const run = await waitFor(token, started.id);
      expect(run.status).toBe("succeeded");
      results[name] = [run.output, run.steps.map((s) => s.stepId)];
    }
    expect(results).toEqual({
      score: [{ tier: "high" }, ["route", "high"]],
      vip: [{ tier: "high" }, ["route", "high"]],
      none: [{ tier: "low" }, ["route", "low"]],
    });
  });
});

describe("workflow executions: http and mcp_tool steps", () => {
  it("calls a URL with templated parts and an idempotency key per attempt", async () => {
    const { token } = await createTenant();
    const path = await sinkPath();
    const run = await runToEnd(
      token,
      {
        steps: [
          {
            id: "post",
            type: "http",
            method: "POST",
            url: `${SINK}${path}?q={{input.q}}`,
            headers: { "x-topic": "{{input.q}}" },
            body: { query: "{{input.q}}", n: "{{input.n}}" },
          },
        ],
      },
      { q: "tides", n: 3 },
    );
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    const [received] = await sinkReceived(path);
    expect(received?.method).toBe("POST");
    expect(received?.headers["x-topic"]).toBe("tides");
    expect(received?.headers["idempotency-key"]).toBe(`${run.id}:post:1`);
    expect(JSON.parse(received?.body ?? "{}")).toEqual({ query: "tides", n: 3 });
    expect(attemptsOf(run, "post")[0]?.output).toMatchObject({ status: 200 });
  });

  it("retries a 5xx after the policy's delay (an alarm), then succeeds; a 4xx is not retried", async () => {
    const { token } = await createTenant();
    const flaky = await sinkPath([503, 503, 200]);
    const run = await runToEnd(token, {
      steps: [
        {
          id: "call",
          type: "http",
          url: `${SINK}${flaky}`,
          retry: { maxAttempts: 3, initialDelayMs: 300, multiplier: 2, jitter: 0 },
        },
      ],
    });
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    const attempts = attemptsOf(run, "call");
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "succeeded"],
    ]);
    expect(attempts[0]?.error).toMatch(/^http_5xx: /);
    const gap = (a: number, b: number) =>
      Date.parse(attempts[b]?.startedAt ?? "") - Date.parse(attempts[a]?.finishedAt ?? "");
    expect(gap(0, 1)).toBeGreaterThanOrEqual(290);
    expect(gap(1, 2)).toBeGreaterThanOrEqual(590);
    const keys = (await sinkReceived(flaky)).map((r) => r.headers["idempotency-key"]);
    expect(keys).toEqual([`${run.id}:call:1`, `${run.id}:call:2`, `${run.id}:call:3`]);

    const refused = await sinkPath([404]);
    const failed = await runToEnd(token, {
      steps: [
        { id: "call", type: "http", url: `${SINK}${refused}`, retry: { maxAttempts: 3, initialDelayMs: 10 } },
      ],
    });
    expect(failed.status).toBe("failed");
    expect(attemptsOf(failed, "call")).toHaveLength(1);
    expect(failed.error).toMatch(/^call: http_4xx: /);
  });

  it("refuses a URL the outbound guard forbids without calling it", async () => {
    const { token } = await createTenant();
    // (The test deployment allows private addresses, for the local sink; credentials in a URL never are.)
    const run = await runToEnd(
      token,
      {
        steps: [{ id: "steal", type: "http", url: "https://user:secret@example.com/{{input.x}}" }],
      },
      { x: "y" },
    );
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^steal: url_refused: /);
  });

  it("calls a built-in MCP tool with templated arguments", async () => {
    const { token } = await createTenant();
    const run = await runToEnd(
      token,
      {
        steps: [
          {
            id: "sum",
            type: "mcp_tool",
            server: "calculator",
            tool: "add",
            arguments: { a: "{{input.a}}", b: 2 },
          },
          {
            id: "half",
            type: "mcp_tool",
            server: "calculator",
            tool: "divide",
            arguments: { a: "{{steps.sum.output.result}}", b: 0 },
          },
        ],
      },
      { a: 40 },
    );
    expect(attemptsOf(run, "sum")[0]?.output).toMatchObject({ result: 42 });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^half: tool_failed: .*division_by_zero/);
  });
});

describe("workflow executions: parallel steps", () => {
  const branch = (id: string, url: string) => ({ id, steps: [{ id: `${id}_call`, type: "http", url }] });

  it("waits for all branches and collects their outputs", async () => {
    const { token } = await createTenant();
    const run = await runToEnd(token, {
      steps: [
        {
          id: "fan",
          type: "parallel",
          branches: [
            {
              id: "a",
              steps: [
                { id: "a1", type: "transform", output: { v: 1 } },
                { id: "a2", type: "transform", output: { v: "{{steps.a1.output.v}}" } },
              ],
            },
            { id: "b", steps: [{ id: "b1", type: "transform", output: { v: 2 } }] },
          ],
        },
        {
          id: "sum",
          type: "transform",
          output: { a: "{{steps.fan.output.branches.a.v}}", b: "{{steps.b1.output.v}}" },
        },
      ],
    });
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.output).toEqual({ a: 1, b: 2 });
  });

  it("any: the first branch to succeed wins and the slower one is cancelled", async () => {
    const { token } = await createTenant();
    const fast = await sinkPath([200]);
    const slow = await sinkPath([200], 5_000);
    const started = Date.now();
    const run = await runToEnd(token, {
      steps: [
        {
          id: "race",
          type: "parallel",
          wait: "any",
          branches: [branch("slow", `${SINK}${slow}`), branch("fast", `${SINK}${fast}`)],
        },
      ],
    });
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(Date.now() - started).toBeLessThan(4_000);
    const output = attemptsOf(run, "race")[0]?.output as {
      completed: string[];
      branches: Record<string, unknown>;
    };
    expect(output.completed).toEqual(["fast"]);
    expect(Object.keys(output.branches)).toEqual(["fast"]);
    expect(attemptsOf(run, "slow_call")[0]?.status).toBe("cancelled");
  });

  it("n_of_m succeeds with n; fail-fast stops at the first failure; collect waits for every branch", async () => {
    const { token } = await createTenant();
    const ok = await sinkPath();
    // Each run gets its own failing path: the sink answers 200 once a script runs out.
    const bad = async () => `${SINK}${await sinkPath([400])}`;
    const slow = async () => `${SINK}${await sinkPath([200], 1_500)}`;
    const twoOfThree = await runToEnd(token, {
      steps: [
        {
          id: "quorum",
          type: "parallel",
          wait: "n_of_m",
          n: 2,
          branches: [branch("x", `${SINK}${ok}`), branch("y", await bad()), branch("z", `${SINK}${ok}`)],
        },
      ],
    });
    expect(twoOfThree.status, JSON.stringify(twoOfThree)).toBe("succeeded");
    const quorum = attemptsOf(twoOfThree, "quorum")[0]?.output as {
      branches: object;
      errors: Record<string, string>;
    };
    expect(Object.keys(quorum.branches).sort()).toEqual(["x", "z"]);

    const failFastFlow = {
      steps: [
        { id: "all", type: "parallel", branches: [branch("bad", await bad()), branch("slow", await slow())] },
      ],
    };
    const fastFail = Date.now();
    const failFast = await runToEnd(token, failFastFlow);
    expect(failFast.status).toBe("failed");
    expect(Date.now() - fastFail).toBeLessThan(1_400);
    expect(failFast.error).toMatch(/^all: branch_failed: branches failed: bad \(bad_call\)/);
    expect(attemptsOf(failFast, "slow_call")[0]?.status).toBe("cancelled");

    const collect = await runToEnd(token, {
      steps: [
        {
          id: "all",
          type: "parallel",
          failFast: false,
          branches: [branch("bad", await bad()), branch("slow", await slow())],
        },
      ],
    });
    expect(collect.status).toBe("failed");
    expect(attemptsOf(collect, "slow_call")[0]?.status).toBe("succeeded");
  });
});

describe("workflow executions: approvals", () => {
  const approvalFlow = (extra: Record<string, unknown> = {}) => ({
    steps: [
      {
        id: "review",
        type: "wait_for_approval",
        message: "Publish {{input.title}}?",
        schema: { type: "object", required: ["approved"], properties: { approved: { type: "boolean" } } },
        ...extra,
      },
      { id: "after", type: "transform", output: { approved: "{{steps.review.output.approved}}" } },
    ],
  });

  it("waits, refuses a payload that breaks the schema, then resumes with a valid one", async () => {
    const { token } = await createTenant();
    const workflow = await createWorkflow(token, approvalFlow());
    const started = await execute(token, workflow.id, { title: "Q3 report" });
    const waiting = await waitFor(token, started.id, ["waiting"]);
    expect(attemptsOf(waiting, "review")[0]).toMatchObject({
      status: "waiting",
      input: { message: "Publish Q3 report?" },
    });

    const notWaiting = await api.post<ProblemBody>(
      `/v1/workflow-executions/${started.id}/steps/after/resume`,
      {
        token,
        body: { payload: { approved: true } },
      },
    );
    expect(notWaiting.status).toBe(409);
    const unknown = await api.post<ProblemBody>(`/v1/workflow-executions/${started.id}/steps/nope/resume`, {
      token,
      body: { payload: {} },
    });
    expect(unknown.status).toBe(404);
    const bad = await api.post<ProblemBody & { errors: { path: string }[] }>(
      `/v1/workflow-executions/${started.id}/steps/review/resume`,
      { token, body: { payload: { approved: "yes" } } },
    );
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e) => e.path)).toContain("payload.approved");

    const ok = await api.post<ExecutionResponse>(
      `/v1/workflow-executions/${started.id}/steps/review/resume`,
      {
        token,
        body: { payload: { approved: true } },
      },
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const done = await waitFor(token, started.id);
    expect(done.status).toBe("succeeded");
    expect(done.output).toEqual({ approved: true });
    const again = await api.post<ProblemBody>(`/v1/workflow-executions/${started.id}/steps/review/resume`, {
      token,
      body: { payload: { approved: false } },
    });
    expect(again.status).toBe(409);
  });

  it("expires: fails by default, or continues with the expiry output", async () => {
    const { token } = await createTenant();
    const failing = await createWorkflow(token, approvalFlow({ expiresInSeconds: 1 }));
    const continuing = await createWorkflow(
      token,
      approvalFlow({ expiresInSeconds: 1, onExpiry: "continue", expiryOutput: { approved: false } }),
    );
    const [a, b] = await Promise.all([
      execute(token, failing.id, { title: "x" }),
      execute(token, continuing.id, { title: "x" }),
    ]);
    const failed = await waitFor(token, a?.id ?? "", undefined, 10_000);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/^review: approval_expired/);
    const continued = await waitFor(token, b?.id ?? "", undefined, 10_000);
    expect(continued.status, JSON.stringify(continued)).toBe("succeeded");
    expect(continued.output).toEqual({ approved: false });
  });
});

describe("workflow executions: control", () => {
  it("cancels mid-step: the running call is aborted and nothing after it starts", async () => {
    const { token } = await createTenant();
    const slow = await sinkPath([200], 5_000);
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "slow", type: "http", url: `${SINK}${slow}` },
        { id: "after", type: "transform", output: { never: true } },
      ],
    });
    const started = await execute(token, workflow.id);
    await expect
      .poll(async () => (await sinkReceived(slow)).length, { timeout: 5_000, interval: 50 })
      .toBe(1);
    const cancelled = await api.post<ExecutionResponse>(`/v1/workflow-executions/${started.id}/cancel`, {
      token,
    });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    const run = await waitFor(token, started.id);
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([["slow", "cancelled"]]);
    const again = await api.post<ProblemBody>(`/v1/workflow-executions/${started.id}/cancel`, { token });
    expect(again.status).toBe(409);
  });

  it("honours Idempotency-Key: one execution per key; another input with the key is 422", async () => {
    const { token } = await createTenant();
    const workflow = await createWorkflow(token, { steps: [{ id: "a", type: "transform", output: 1 }] });
    const key = crypto.randomUUID();
    const [first, second] = await Promise.all([
      api.post<ExecutionResponse>(`/v1/workflows/${workflow.id}/execute`, {
        token,
        headers: { "idempotency-key": key },
        body: { input: { n: 1 } },
      }),
      api.post<ExecutionResponse>(`/v1/workflows/${workflow.id}/execute`, {
        token,
        headers: { "idempotency-key": key },
        body: { input: { n: 1 } },
      }),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.id).toBe(first.body.id);
    const reused = await api.post<ProblemBody>(`/v1/workflows/${workflow.id}/execute`, {
      token,
      headers: { "idempotency-key": key },
      body: { input: { n: 2 } },
    });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const list = await api.get<ListWorkflowExecutionsResponse>(
      `/v1/workflow-executions?workflowId=${workflow.id}`,
      {
        token,
      },
    );
    expect(list.body.data).toHaveLength(1);
  });

  it("checks the input against the input schema (422) and the payload limit (413)", async () => {
    const { token } = await createTenant({ settings: { defaultLimits: { maxWorkflowPayloadBytes: 1000 } } });
    const workflow = await createWorkflow(
      token,
      { steps: [{ id: "a", type: "transform", output: "{{input.topic}}" }] },
      { inputSchema: { type: "object", required: ["topic"], properties: { topic: { type: "string" } } } },
    );
    const missing = await api.post<ProblemBody & { errors: { path: string }[] }>(
      `/v1/workflows/${workflow.id}/execute`,
      {
        token,
        body: { input: { topic: 7 } },
      },
    );
    expect(missing.status).toBe(422);
    expect(missing.body.errors.map((e) => e.path)).toContain("input.topic");
    const big = await api.post<ProblemBody>(`/v1/workflows/${workflow.id}/execute`, {
      token,
      body: { input: { topic: "x".repeat(2000) } },
    });
    expect(big.status).toBe(413);
    const empty = await api.post<ProblemBody>(`/v1/workflows/${workflow.id}/execute`, {
      token,
      raw: "{",
      headers: { "content-type": "application/json" },
    });
    expect(empty.status).toBe(400);
  });

  it("refuses a start beyond maxConcurrentWorkflows (429) and accepts again once one ends", async () => {
    const { token } = await createTenant({ settings: { defaultLimits: { maxConcurrentWorkflows: 1 } } });
    const workflow = await createWorkflow(token, {
      steps: [{ id: "hold", type: "wait_for_approval", expiresInSeconds: 60 }],
    });
    const first = await execute(token, workflow.id);
    await waitFor(token, first.id, ["waiting"]);
    const refused = await api.post<ProblemBody>(`/v1/workflows/${workflow.id}/execute`, { token, body: {} });
    expect(refused.status).toBe(429);
    await api.post(`/v1/workflow-executions/${first.id}/cancel`, { token });
    const accepted = await api.post<ExecutionResponse>(`/v1/workflows/${workflow.id}/execute`, {
      token,
      body: {},
    });
    expect(accepted.status).toBe(202);
  });

  it("times out a step (a retryable failure) and a whole execution (on its alarm)", async () => {
    const { token } = await createTenant();
    const slow = await sinkPath([200, 200], 3_000);
    const started = Date.now();
    const step = await runToEnd(token, {
      steps: [
        {
          id: "slow",
          type: "http",
          url: `${SINK}${slow}`,
          timeoutSeconds: 1,
          retry: { maxAttempts: 2, initialDelayMs: 10, retryOn: ["timeout"] },
        },
      ],
    });
    expect(step.status).toBe("failed");
    expect(attemptsOf(step, "slow").map((a) => [a.attempt, a.status, a.error?.split(":")[0]])).toEqual([
      [1, "failed", "timeout"],
      [2, "failed", "timeout"],
    ]);
    expect(Date.now() - started).toBeLessThan(2_900);

    const whole = await runToEnd(token, {
      timeoutSeconds: 1,
      steps: [{ id: "hold", type: "wait_for_approval", expiresInSeconds: 60 }],
    });
    expect(whole.status).toBe("failed");
    expect(whole.error).toMatch(/^timeout: /);
    expect(attemptsOf(whole, "hold")[0]?.status).toBe("cancelled");
  });

  it("runs many executions at once, each to its own end", async () => {
    const { token } = await createTenant();
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "a", type: "transform", output: { n: "{{input.n}}" } },
        {
          id: "b",
          type: "mcp_tool",
          server: "calculator",
          tool: "multiply",
          arguments: { a: "{{steps.a.output.n}}", b: 2 },
        },
      ],
      output: "{{steps.b.output.result}}",
    });
    const started = await Promise.all(
      Array.from({ length: 12 }, (_, n) => execute(token, workflow.id, { n })),
    );
    const runs = await Promise.all(started.map((s) => waitFor(token, s.id)));
    expect(runs.map((r) => r.status)).toEqual(Array(12).fill("succeeded"));
    expect(runs.map((r) => r.output)).toEqual(Array.from({ length: 12 }, (_, n) => n * 2));
  });

  it("streams step events and resumes after Last-Event-ID", async () => {
    const { token } = await createTenant();
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "a", type: "transform", output: 1 },
        { id: "b", type: "transform", output: 2 },
      ],
    });
    const started = await execute(token, workflow.id);
    await waitFor(token, started.id);
    const stream = await openEvents("GET", `/v1/workflow-executions/${started.id}/events`, { token });
    expect(stream.status).toBe(200);
    const events = await stream.until("done");
    expect(events.map((e) => [e.event, e.data.stepId ?? null])).toEqual([
      ["execution_started", null],
      ["step_started", "a"],
      ["step_succeeded", "a"],
      ["step_started", "b"],
      ["step_succeeded", "b"],
      ["done", null],
    ]);
    const resumed = await openEvents("GET", `/v1/workflow-executions/${started.id}/events`, {
      token,
      headers: { "last-event-id": String(events[3]?.id) },
    });
    const rest = await resumed.until("done");
    expect(rest.map((e) => e.event)).toEqual(["step_succeeded", "done"]);
  });

  it("keeps tenants apart: another tenant's execution is 404 everywhere and absent from lists", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const workflow = await createWorkflow(a.token, { steps: [{ id: "hold", type: "wait_for_approval" }] });
    const started = await execute(a.token, workflow.id);
    await waitFor(a.token, started.id, ["waiting"]);

    const base = `/v1/workflow-executions/${started.id}`;
    expect((await api.get(base, { token: b.token })).status).toBe(404);
    expect((await api.get(`${base}/events`, { token: b.token })).status).toBe(404);
    expect((await api.post(`${base}/cancel`, { token: b.token })).status).toBe(404);
    expect(
      (await api.post(`${base}/steps/hold/resume`, { token: b.token, body: { payload: {} } })).status,
    ).toBe(404);
    expect(
      (await api.post(`/v1/workflows/${workflow.id}/execute`, { token: b.token, body: {} })).status,
    ).toBe(404);
    const listed = await api.get<ListWorkflowExecutionsResponse>(
      `/v1/workflow-executions?workflowId=${workflow.id}`,
      {
        token: b.token,
      },
    );
    expect(listed.body.data).toEqual([]);
    const still = await api.get<ExecutionDetailResponse>(base, { token: a.token });
    expect(still.body.status).toBe("waiting");
  });

  it("lets viewers read executions but not start, cancel or approve them", async () => {
    const owner = await createTenant();
    const viewer = await owner.keyWithRole("viewer");
    const workflow = await createWorkflow(owner.token, {
      steps: [{ id: "hold", type: "wait_for_approval" }],
    });
    const started = await execute(owner.token, workflow.id);
    await waitFor(owner.token, started.id, ["waiting"]);
    expect((await api.get(`/v1/workflow-executions/${started.id}`, { token: viewer })).status).toBe(200);
    expect((await api.post(`/v1/workflows/${workflow.id}/execute`, { token: viewer, body: {} })).status).toBe(
      403,
    );
    expect((await api.post(`/v1/workflow-executions/${started.id}/cancel`, { token: viewer })).status).toBe(
      403,
    );
    expect(
      (
        await api.post(`/v1/workflow-executions/${started.id}/steps/hold/resume`, {
          token: viewer,
          body: { payload: {} },
        })
      ).status,
    ).toBe(403);
  });
});

describe("workflow executions: agent steps", () => {
  async function createAgent(token: string, name: string): Promise<string> {
    const res = await api.post<{ id: string }>("/v1/agents", {
      token,
      body: { name, model: "claude-sonnet-4-6", systemPrompt: "Be brief." },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }

  it("runs an agent as a task of the execution and passes its answer on", async () => {
    const { token } = await createTenant();
    const agentId = await createAgent(token, "researcher");
    const scenario = await scriptModel([
      {
        message: {
          content: [{ type: "text", text: "Tides follow the moon." }],
          usage: { input_tokens: 12, output_tokens: 5 },
        },
      },
    ]);
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "research", type: "agent", agentId, message: "Research {{input.topic}}" },
        { id: "wrap", type: "transform", output: { summary: "{{steps.research.output.text}}" } },
      ],
      output: "{{steps.wrap.output}}",
    });
    const started = await execute(token, workflow.id, { topic: "tides" }, { "x-model-scenario": scenario });
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.output).toEqual({ summary: "Tides follow the moon." });
    const research = attemptsOf(run, "research")[0];
    expect(research?.input).toBe("Research tides");
    expect(research?.output).toMatchObject({
      text: "Tides follow the moon.",
      status: "succeeded",
      usage: { inputTokens: 12, outputTokens: 5 },
    });

    const requests = await modelRequests(scenario);
    expect(requests).toHaveLength(1);
    expect(JSON.stringify(requests[0]?.body.messages)).toContain("Research tides");
    const tasks = await api.get<ListAgentTasksResponse>(`/v1/agent-tasks?executionId=${started.id}`, {
      token,
    });
    expect(tasks.body.data).toHaveLength(1);
    expect(tasks.body.data[0]).toMatchObject({
      agentId,
      status: "succeeded",
      executionId: started.id,
      stepExecutionId: research?.id,
      runId: (research?.output as { runId?: string } | undefined)?.runId,
    });
  });

  it("runs the agent version a step pins, not the agent's current one", async () => {
    const { token } = await createTenant();
    const agentId = await createAgent(token, "versioned");
    const patched = await api.patch(`/v1/agents/${agentId}`, {
      token,
      body: { systemPrompt: "Version two." },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const scenario = await scriptModel([
      { message: { content: [{ type: "text", text: "one" }] } },
      { message: { content: [{ type: "text", text: "two" }] } },
    ]);
    const workflow = await createWorkflow(token, {
      steps: [
        { id: "pinned", type: "agent", agentId, agentVersion: 1, message: "Hi" },
        { id: "current", type: "agent", agentId, message: "Hi" },
      ],
    });
    const started = await execute(token, workflow.id, {}, { "x-model-scenario": scenario });
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    const systems = (await modelRequests(scenario)).map((r) => JSON.stringify(r.body.system));
    expect(systems[0]).toContain("Be brief.");
    expect(systems[1]).toContain("Version two.");
  });

  it("cancelling the execution cancels the agent's run", async () => {
    const { token } = await createTenant();
    const agentId = await createAgent(token, "slow");
    const scenario = await scriptModel([{ delayMs: 5_000 }]);
    const workflow = await createWorkflow(token, {
      steps: [{ id: "think", type: "agent", agentId, message: "Think" }],
    });
    const started = await execute(token, workflow.id, {}, { "x-model-scenario": scenario });
    await expect
      .poll(async () => (await modelRequests(scenario)).length, { timeout: 5_000, interval: 50 })
      .toBe(1);
    const cancelled = await api.post<ExecutionResponse>(`/v1/workflow-executions/${started.id}/cancel`, {
      token,
    });
    expect(cancelled.body.status).toBe("cancelled");
    const tasks = await api.get<ListAgentTasksResponse>(`/v1/agent-tasks?executionId=${started.id}`, {
      token,
    });
    const runId = tasks.body.data[0]?.runId;
    await expect
      .poll(
        async () => (await api.get<{ status: string }>(`/v1/agent-runs/${runId}`, { token })).body.status,
        {
          timeout: 8_000,
          interval: 100,
        },
      )
      .toBe("cancelled");
  });
});
