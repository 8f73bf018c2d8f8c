import { describe, expect, it } from "vitest";
import { sampleRows } from "../../../mcp/servers/database/sample-data";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { describeOnServer, skipUnlessServer } from "../../../test/harness/stack";
import type { ListAgentMessagesResponse } from "../agent-messages/list-agent-messages";
import type { ListAgentTasksResponse } from "../agent-tasks/list-agent-tasks";
import type { ListAgentsResponse } from "../agents/list-agents";
import type { AgentResponse } from "../agents/schemas";
import { createCollection, settled, uploadText } from "../rag-documents/test-fixtures";
import type { ExecutionResponse } from "../workflow-executions/schemas";
import { attemptsOf, execute, waitFor } from "../workflow-executions/test-fixtures";
import type { ListWorkflowsResponse } from "../workflows/list-workflows";
import type { WorkflowResponse } from "../workflows/schemas";
import type { InstantiateWorkflowTemplateResponse } from "./instantiate-workflow-template";
import type { ListWorkflowTemplatesResponse } from "./list-workflow-templates";
import type { WorkflowTemplateResponse } from "./schemas";

async function instantiate(
  token: string,
  templateId: string,
  body: Record<string, unknown> = {},
): Promise<InstantiateWorkflowTemplateResponse> {
  const res = await api.post<InstantiateWorkflowTemplateResponse>(
    `/v1/workflow-templates/${templateId}/instantiate`,
    { token, body },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.headers.get("location")).toBe(`/v1/workflows/${res.body.workflow.id}`);
  return res.body;
}

function agentId(created: InstantiateWorkflowTemplateResponse, key: string): string {
  const agent = created.agents.find((a) => a.key === key);
  if (!agent) throw new Error(`no agent ${key} in ${JSON.stringify(created.agents)}`);
  return agent.id;
}

function answer(text: string) {
  return { message: { content: [{ type: "text", text }] } };
}

/** The text of a recorded model request's messages, to look for what a step handed on. */
function sent(request: { body: { messages: unknown } } | undefined): string {
  return JSON.stringify(request?.body.messages ?? null);
}

async function countOf(token: string): Promise<{ agents: number; workflows: number }> {
  const agents = await api.get<ListAgentsResponse>("/v1/agents", { token });
  const workflows = await api.get<ListWorkflowsResponse>("/v1/workflows", { token });
  return { agents: agents.body.data.length, workflows: workflows.body.data.length };
}

describe("workflow templates: catalogue", () => {
  it("lists the five built-in templates and gets one by id; an unknown id is 404", async () => {
    const { token } = await createTenant();
    const list = await api.get<ListWorkflowTemplatesResponse>("/v1/workflow-templates", { token });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.data.map((t) => t.id)).toEqual([
      "research-then-summarise",
      "parallel-analysis-synthesis",
      "supervisor-with-workers",
      "rag-answer-with-review",
      "tool-augmented-data-task",
    ]);
    for (const template of list.body.data) {
      expect(template.parameters).toMatchObject({
        type: "object",
        properties: { model: { type: "string", default: "claude-sonnet-4-6" } },
        additionalProperties: false,
      });
      expect(template.agents.length).toBeGreaterThan(0);
      expect(template.inputSchema).toMatchObject({ type: "object" });
    }

    const rag = await api.get<WorkflowTemplateResponse>("/v1/workflow-templates/rag-answer-with-review", {
      token,
    });
    expect(rag.status).toBe(200);
    expect(rag.body.parameters).toMatchObject({
      properties: { collectionId: { type: "string", format: "uuid" }, topK: { default: 5 } },
      required: ["collectionId"],
    });
    expect(rag.body.agents.find((a) => a.key === "answerer")).toMatchObject({
      model: "@param:model",
      tools: [{ type: "knowledge_base", config: { collectionIds: ["@param:collectionId"] } }],
    });
    expect(JSON.stringify(rag.body.definition)).toContain('"type":"wait_for_approval"');

    const unknown = await api.get<ProblemBody>("/v1/workflow-templates/no-such-template", { token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("NOT_FOUND");
    const unknownInstantiate = await api.post<ProblemBody>("/v1/workflow-templates/nope/instantiate", {
      token,
      body: {},
    });
    expect(unknownInstantiate.status).toBe(404);
  });

  it("needs a credential; viewers may read templates but only members and up instantiate them", async () => {
    const fixture = await createTenant();
    await expectAuthRequired({ method: "get", path: "/v1/workflow-templates" });
    await expectAuthRequired({ method: "get", path: "/v1/workflow-templates/research-then-summarise" });
    await expectAuthRequired({
      method: "post",
      path: "/v1/workflow-templates/research-then-summarise/instantiate",
      body: {},
    });
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/workflow-templates" },
      { allowed: ["viewer", "member"], denied: [] },
    );
    await expectRoles(
      fixture,
      { method: "post", path: "/v1/workflow-templates/research-then-summarise/instantiate", body: {} },
      { allowed: ["member", "admin"], denied: ["viewer"] },
    );
  });
});

describe("workflow templates: instantiating", () => {
  it("creates the agents and the workflow in the tenant, audited, with an Idempotency-Key replaying the first answer", async () => {
    const { token } = await createTenant();
    const headers = { "idempotency-key": `tpl-${crypto.randomUUID()}` };
    const body = { name: "tides digest", parameters: { model: "claude-haiku-4-5" } };
    const first = await api.post<InstantiateWorkflowTemplateResponse>(
      "/v1/workflow-templates/research-then-summarise/instantiate",
      { token, headers, body },
    );
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const created = first.body;
    expect(created).toMatchObject({
      template: "research-then-summarise",
      workflow: { name: "tides digest", version: 1, inputSchema: { required: ["topic"] } },
      agents: [
        { key: "researcher", name: "tides digest: researcher" },
        { key: "summariser", name: "tides digest: summariser" },
      ],
    });
    const steps = created.workflow.definition.steps as { id: string; agentId: string }[];
    expect(steps.map((s) => [s.id, s.agentId])).toEqual([
      ["research", agentId(created, "researcher")],
      ["summarise", agentId(created, "summariser")],
    ]);

    const researcher = await api.get<AgentResponse>(`/v1/agents/${agentId(created, "researcher")}`, {
      token,
    });
    expect(researcher.status).toBe(200);
    expect(researcher.body).toMatchObject({
      version: 1,
      model: "claude-haiku-4-5",
      metadata: { workflowTemplate: "research-then-summarise", templateAgent: "researcher" },
    });
    expect(researcher.body.systemPrompt).toMatch(/researcher/);
    const versions = await api.get<{ data: unknown[] }>(
      `/v1/agents/${agentId(created, "researcher")}/versions`,
      { token },
    );
    expect(versions.body.data).toHaveLength(1);
    const workflow = await api.get<WorkflowResponse>(`/v1/workflows/${created.workflow.id}`, { token });
    expect(workflow.body.definition).toEqual(created.workflow.definition);

    const replay = await api.post<InstantiateWorkflowTemplateResponse>(
      "/v1/workflow-templates/research-then-summarise/instantiate",
      { token, headers, body },
    );
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.workflow.id).toBe(created.workflow.id);
    expect(await countOf(token)).toEqual({ agents: 2, workflows: 1 });
    const reused = await api.post<ProblemBody>("/v1/workflow-templates/research-then-summarise/instantiate", {
      token,
      headers,
      body: { ...body, name: "another" },
    });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe("IDEMPOTENCY_KEY_REUSED");

    const audit = await api.get<{ data: { action: string; resourceId: string; changes: unknown }[] }>(
      "/v1/audit-logs",
      { token },
    );
    const actions = audit.body.data.map((e) => e.action);
    expect(actions.filter((a) => a === "agent.create")).toHaveLength(2);
    expect(audit.body.data.find((e) => e.action === "workflow.create")).toMatchObject({
      resourceId: created.workflow.id,
      changes: { template: "research-then-summarise", version: 1 },
    });
  });

  it("refuses invalid parameters with 422 and their paths, creating nothing", async () => {
    const { token } = await createTenant({ settings: { allowedModels: ["claude-haiku-4-5"] } });
    const cases: [template: string, parameters: Record<string, unknown>, paths: string[]][] = [
      ["research-then-summarise", { surprise: 1 }, ["parameters.surprise"]],
      ["research-then-summarise", { model: "gpt-4o" }, ["parameters.model"]],
      // The default model is not in this tenant's allow-list.
      ["supervisor-with-workers", {}, ["parameters.model"]],
      ["rag-answer-with-review", { model: "claude-haiku-4-5" }, ["parameters.collectionId"]],
      [
        "rag-answer-with-review",
        { collectionId: "kb-1", topK: 0 },
        ["parameters.collectionId", "parameters.topK"],
      ],
      [
        "rag-answer-with-review",
        { model: "claude-haiku-4-5", collectionId: crypto.randomUUID() },
        ["parameters.collectionId"],
      ],
    ];
    for (const [template, parameters, paths] of cases) {
      const res = await api.post<ProblemBody>(`/v1/workflow-templates/${template}/instantiate`, {
        token,
        body: { parameters },
      });
      expect(res.status, `${template} ${JSON.stringify(parameters)}: ${JSON.stringify(res.body)}`).toBe(422);
      expect(res.body.code).toBe("UNPROCESSABLE");
      expect((res.body.errors ?? []).map((e) => e.path).sort()).toEqual(paths);
    }
    const badBody = await api.post<ProblemBody>(
      "/v1/workflow-templates/research-then-summarise/instantiate",
      {
        token,
        body: { parameters: [], extra: true },
      },
    );
    expect(badBody.status).toBe(400);
    expect(await countOf(token)).toEqual({ agents: 0, workflows: 0 });

    const allowed = await instantiate(token, "supervisor-with-workers", {
      parameters: { model: "claude-haiku-4-5" },
    });
    expect(allowed.agents.map((a) => a.key)).toEqual(["researcher", "writer", "supervisor"]);
  });

  it("keeps tenants apart: another tenant's collection is 422, and an instantiation touches only its own tenant", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const theirs = await createCollection(b.token);
    const refused = await api.post<ProblemBody>("/v1/workflow-templates/rag-answer-with-review/instantiate", {
      token: a.token,
      body: { parameters: { collectionId: theirs.id } },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { path: "parameters.collectionId", message: `no collection ${theirs.id} in this tenant` },
    ]);
    expect(await countOf(a.token)).toEqual({ agents: 0, workflows: 0 });

    const mine = await createCollection(a.token);
    const created = await instantiate(a.token, "rag-answer-with-review", {
      parameters: { collectionId: mine.id },
    });
    expect(await countOf(b.token)).toEqual({ agents: 0, workflows: 0 });
    expect((await api.get(`/v1/workflows/${created.workflow.id}`, { token: b.token })).status).toBe(404);
    for (const { id } of created.agents) {
      expect((await api.get(`/v1/agents/${id}`, { token: b.token })).status).toBe(404);
    }
    // The same template in the other tenant is that tenant's own copy.
    const copy = await instantiate(b.token, "rag-answer-with-review", {
      parameters: { collectionId: theirs.id },
    });
    expect(copy.agents.map((x) => x.id)).not.toContain(created.agents[0]?.id);
    expect(await countOf(a.token)).toEqual({ agents: 2, workflows: 1 });
  });
});

describe("workflow templates: each runs end to end", () => {
  it("research-then-summarise: the summariser works from the researcher's notes", async () => {
    const { token } = await createTenant();
    const created = await instantiate(token, "research-then-summarise");
    const scenario = await scriptModel([
      answer("Tides are caused by the moon's gravity; two a day."),
      answer("- The moon drives the tides.\n- Two high tides a day."),
    ]);
    const started = await execute(
      token,
      created.workflow.id,
      { topic: "tides" },
      { "x-model-scenario": scenario },
    );
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.output).toEqual({
      topic: "tides",
      notes: "Tides are caused by the moon's gravity; two a day.",
      summary: "- The moon drives the tides.\n- Two high tides a day.",
    });
    const [research, summarise] = await modelRequests(scenario);
    expect(sent(research)).toContain("tides");
    expect(sent(summarise)).toContain("Tides are caused by the moon's gravity");
    expect(JSON.stringify(summarise?.body.system)).toContain("summarise");
  });

  it("parallel analysis: three analysts side by side, then a synthesis of all three", async () => {
    const { token } = await createTenant();
    const created = await instantiate(token, "parallel-analysis-synthesis");
    const views = ["View one: strong demand.", "View two: supplier risk.", "View three: easy to build."];
    // The branches call the model in whatever order they start; the synthesis comes after all three.
    const scenario = await scriptModel([
      ...views.map(answer),
      answer("Go ahead, after securing a supplier."),
    ]);
    const started = await execute(
      token,
      created.workflow.id,
      { subject: "a refill subscription" },
      { "x-model-scenario": scenario },
    );
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    const output = run.output as { perspectives: Record<string, string>; synthesis: string; subject: string };
    expect(output.subject).toBe("a refill subscription");
    expect(Object.keys(output.perspectives).sort()).toEqual(["market", "risk", "technical"]);
    expect(Object.values(output.perspectives).sort()).toEqual([...views].sort());
    for (const key of ["market", "risk", "technical"]) {
      expect(attemptsOf(run, `${key}_view`)[0]?.output).toMatchObject({ text: output.perspectives[key] });
    }
    expect(output.synthesis).toBe("Go ahead, after securing a supplier.");

    const requests = await modelRequests(scenario);
    expect(requests).toHaveLength(4);
    const systems = requests.slice(0, 3).map((r) => JSON.stringify(r.body.system));
    for (const analyst of ["market analyst", "risk analyst", "technical analyst"]) {
      expect(systems.some((s) => s.includes(analyst))).toBe(true);
    }
    for (const view of views) expect(sent(requests[3])).toContain(view);
  });

  it("supervisor: one agent step delegates to both workers, recorded as tasks of the execution", async () => {
    const { token } = await createTenant();
    const created = await instantiate(token, "supervisor-with-workers");
    const supervisor = await api.get<AgentResponse>(`/v1/agents/${agentId(created, "supervisor")}`, {
      token,
    });
    expect(supervisor.body.tools.map((t) => [t.name, t.type, t.config?.agentId])).toEqual([
      ["ask_researcher", "agent", agentId(created, "researcher")],
      ["ask_writer", "agent", agentId(created, "writer")],
    ]);

    const scenario = await scriptModel([
      {
        message: {
          content: [
            { type: "tool_use", id: "toolu_r", name: "ask_researcher", input: { message: "Refund time?" } },
            { type: "tool_use", id: "toolu_w", name: "ask_writer", input: { message: "Draft: 30 days." } },
          ],
        },
      },
      answer("Refunds take 30 days."),
      answer("Dear customer, your refund arrives within 30 days."),
      answer("Dear customer, your refund arrives within 30 days."),
    ]);
    const started = await execute(
      token,
      created.workflow.id,
      { task: "Reply to a refund ticket." },
      { "x-model-scenario": scenario },
    );
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.output).toEqual({
      task: "Reply to a refund ticket.",
      result: "Dear customer, your refund arrives within 30 days.",
    });
    const requests = await modelRequests(scenario);
    expect(requests).toHaveLength(4);
    expect(requests[0]?.body.tools?.map((t) => t.name)).toEqual(["ask_researcher", "ask_writer"]);
    expect(sent(requests[1])).toContain("Refund time?");
    expect(sent(requests[2])).toContain("Draft: 30 days.");

    const tasks = await api.get<ListAgentTasksResponse>(`/v1/agent-tasks?executionId=${started.id}`, {
      token,
    });
    expect(tasks.body.data.map((t) => t.agentId).sort()).toEqual(
      [agentId(created, "supervisor"), agentId(created, "researcher"), agentId(created, "writer")].sort(),
    );
    const messages = await api.get<ListAgentMessagesResponse>(
      `/v1/agent-messages?executionId=${started.id}&messageType=request`,
      { token },
    );
    expect(messages.body.data).toHaveLength(2);
  });

  it("RAG answer with review: retrieves from the collection, answers, reviews, then waits for a human", async () => {
    const { token } = await createTenant();
    const collection = await createCollection(token);
    const doc = await uploadText(
      token,
      collection.id,
      "Refunds are paid within 30 days to the original card.",
      {
        title: "Refund policy",
      },
    );
    expect((await settled(token, doc.id)).status).toBe("indexed");
    const created = await instantiate(token, "rag-answer-with-review", {
      parameters: { collectionId: collection.id, topK: 3 },
    });
    const answerer = await api.get<AgentResponse>(`/v1/agents/${agentId(created, "answerer")}`, { token });
    expect(answerer.body.tools).toEqual([
      expect.objectContaining({
        type: "knowledge_base",
        config: { collectionIds: [collection.id], topK: 3 },
      }),
    ]);

    const scenario = await scriptModel([
      answer("Refunds take up to 30 days (Refund policy)."),
      answer("APPROVE\nSupported by the Refund policy."),
      answer("Refunds take up to 30 days."),
      answer("REVISE\nCite the policy."),
    ]);
    const headers = { "x-model-scenario": scenario };
    const started = await execute(
      token,
      created.workflow.id,
      { question: "How long do refunds take?" },
      headers,
    );
    const waiting = await waitFor(token, started.id, ["waiting", "failed"]);
    expect(waiting.status, JSON.stringify(waiting)).toBe("waiting");
    const retrieved = attemptsOf(waiting, "retrieve")[0]?.output as {
      results: { title: string; content: string }[];
    };
    expect(retrieved.results[0]).toMatchObject({ title: "Refund policy" });
    expect(attemptsOf(waiting, "approval")[0]?.input).toMatchObject({
      message: expect.stringContaining("APPROVE"),
    });
    const [toAnswerer, toReviewer] = await modelRequests(scenario);
    expect(sent(toAnswerer)).toContain("Refunds are paid within 30 days");
    expect(toAnswerer?.body.tools?.map((t) => t.name)).toEqual(["search_knowledge_base"]);
    expect(sent(toReviewer)).toContain("Refunds take up to 30 days (Refund policy).");

    const approved = await api.post<ExecutionResponse>(
      `/v1/workflow-executions/${started.id}/steps/approval/resume`,
      { token, body: { payload: { approved: true, comment: "ship it" } } },
    );
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const done = await waitFor(token, started.id);
    expect(done.status, JSON.stringify(done)).toBe("succeeded");
    expect(done.output).toEqual({
      status: "approved",
      question: "How long do refunds take?",
      answer: "Refunds take up to 30 days (Refund policy).",
      review: "APPROVE\nSupported by the Refund policy.",
      sources: ["Refund policy"],
      decision: { approved: true, comment: "ship it" },
    });
    expect(attemptsOf(done, "rejected")).toEqual([]);

    // A human's "no" takes the other branch.
    const second = await execute(token, created.workflow.id, { question: "Refunds?" }, headers);
    await waitFor(token, second.id, ["waiting"]);
    const rejected = await api.post(`/v1/workflow-executions/${second.id}/steps/approval/resume`, {
      token,
      body: { payload: { approved: false } },
    });
    expect(rejected.status).toBe(200);
    const declined = await waitFor(token, second.id);
    expect(declined.output).toMatchObject({ status: "rejected", decision: { approved: false } });
  });
});

describe("workflow templates: on the local model server's default answers, as under npm run dev", () => {
  const outputKeys: Record<string, string[]> = {
    "research-then-summarise": ["notes", "summary", "topic"],
    "parallel-analysis-synthesis": ["perspectives", "subject", "synthesis"],
    "supervisor-with-workers": ["result", "task"],
    "rag-answer-with-review": ["answer", "decision", "question", "review", "sources", "status"],
    "tool-augmented-data-task": ["figures", "question", "report"],
  };

  it.for(Object.keys(outputKeys))("%s runs with its example input", async (id, ctx) => {
    if (id === "tool-augmented-data-task") skipUnlessServer(ctx, "the sample database");
    const { token } = await createTenant();
    const template = (await api.get<WorkflowTemplateResponse>(`/v1/workflow-templates/${id}`, { token }))
      .body;
    const parameters: Record<string, unknown> = {};
    if (id === "rag-answer-with-review") {
      const collection = await createCollection(token);
      const doc = await uploadText(token, collection.id, "Refunds are paid within 30 days.", {
        title: "Refunds",
      });
      await settled(token, doc.id);
      parameters.collectionId = collection.id;
    }
    const created = await instantiate(token, id, { parameters });
    const started = await execute(token, created.workflow.id, template.exampleInput);
    let run = await waitFor(token, started.id, ["waiting", "succeeded", "failed", "cancelled"]);
    if (run.status === "waiting") {
      const res = await api.post(`/v1/workflow-executions/${started.id}/steps/approval/resume`, {
        token,
        body: { payload: { approved: true } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      run = await waitFor(token, started.id);
    }
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(Object.keys(run.output as object).sort()).toEqual(outputKeys[id]);
    // The default answer echoes the message: every agent step got its text.
    for (const step of run.steps.filter((s) => s.stepType === "agent")) {
      expect((step.output as { text: string }).text, step.stepId).toMatch(/\S/);
    }
  });
});

describeOnServer("workflow templates: the data task (sample database)", () => {
  /** Revenue of non-cancelled orders per category, in cents, from the sample's generator. */
  function expectedSales() {
    const { products, orders, order_items } = sampleRows();
    const category = new Map(products.map((p) => [p[0] as number, p[3] as string]));
    const live = new Set(orders.filter((o) => o[2] !== "cancelled").map((o) => o[0] as number));
    const cents = new Map<string, number>();
    const orderIds = new Map<string, Set<number>>();
    for (const [orderId, productId, quantity, price] of order_items) {
      if (!live.has(orderId as number)) continue;
      const name = category.get(productId as number) as string;
      const line = (quantity as number) * Math.round(Number(price) * 100);
      cents.set(name, (cents.get(name) ?? 0) + line);
      orderIds.set(name, (orderIds.get(name) ?? new Set()).add(orderId as number));
    }
    const [top, revenue] = [...cents.entries()].sort((x, y) => y[1] - x[1])[0] as [string, number];
    const total = [...cents.values()].reduce((sum, c) => sum + c, 0);
    return { top, revenue, total, orders: orderIds.get(top)?.size ?? 0 };
  }

  it("tool-augmented data task: SQL on the database server, arithmetic on the calculator, a report by the agent", async () => {
    const { token } = await createTenant();
    const created = await instantiate(token, "tool-augmented-data-task");
    const scenario = await scriptModel([answer("Garden leads; stock up on garden goods.")]);
    const started = await execute(
      token,
      created.workflow.id,
      { question: "What should we stock up on?" },
      { "x-model-scenario": scenario },
    );
    const run = await waitFor(token, started.id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");

    const expected = expectedSales();
    const output = run.output as {
      question: string;
      report: string;
      figures: Record<string, unknown> & { byCategory: unknown[][] };
    };
    expect(output.question).toBe("What should we stock up on?");
    expect(output.report).toBe("Garden leads; stock up on garden goods.");
    expect(output.figures).toMatchObject({
      topCategory: expected.top,
      topCategoryOrders: expected.orders,
      topCategoryRevenue: (expected.revenue / 100).toFixed(2),
      totalRevenue: (expected.total / 100).toFixed(2),
    });
    expect(output.figures.byCategory).toHaveLength(4);
    expect(output.figures.topCategorySharePercent).toBeCloseTo((100 * expected.revenue) / expected.total, 9);
    expect(output.figures.topCategoryRevenuePerOrder).toBeCloseTo(
      expected.revenue / 100 / expected.orders,
      9,
    );
    for (const step of ["sales", "share", "percent", "per_order"]) {
      expect(attemptsOf(run, step)[0]?.stepType).toBe("mcp_tool");
    }
    const [request] = await modelRequests(scenario);
    expect(sent(request)).toContain(`\\"topCategory\\":\\"${expected.top}\\"`);
    expect(request?.body.tools?.map((t) => t.name)).toEqual(["calculator"]);
  });
});
