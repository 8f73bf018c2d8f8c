import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import type { AgentResponse } from "../agents/schemas";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import type { ListWorkflowVersionsResponse } from "./list-workflow-versions";
import type { ListWorkflowsResponse } from "./list-workflows";
import type { WorkflowResponse } from "./schemas";

const inputSchema = {
  type: "object",
  properties: { topic: { type: "string" } },
  required: ["topic"],
};

function twoSteps(agentId: string) {
  return {
    steps: [
      { id: "research", type: "agent", agentId, message: "Research {{input.topic}}" },
      { id: "summary", type: "transform", output: { text: "{{steps.research.output}}" } },
    ],
  };
}

const transformOnly = { steps: [{ id: "only", type: "transform", output: { ok: true } }] };

async function createAgent(token: string, name = "researcher"): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name, model: "claude-sonnet-4-6" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function create(token: string, body: Record<string, unknown>) {
  return api.post<WorkflowResponse & ProblemBody>("/v1/workflows", { token, body });
}

function pathsOf(body: ProblemBody): string[] {
  return (body.errors ?? []).map((e) => e.path);
}

describe("workflow definitions", () => {
  it("creates, reads, updates into new versions, lists versions and deletes a workflow", async () => {
    const { token, owner } = await createTenant();
    const agent = await createAgent(token);
    const created = await create(token, {
      name: "digest",
      description: "Research, then summarise",
      definition: twoSteps(agent.id),
      inputSchema,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    expect(created.headers.get("location")).toBe(`/v1/workflows/${id}`);
    expect(created.body).toMatchObject({
      name: "digest",
      description: "Research, then summarise",
      version: 1,
      definition: twoSteps(agent.id),
      inputSchema,
    });

    const got = await api.get<WorkflowResponse>(`/v1/workflows/${id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    // Name and description change in place.
    const renamed = await api.patch<WorkflowResponse>(`/v1/workflows/${id}`, {
      token,
      body: { name: "daily-digest", description: null },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toMatchObject({ name: "daily-digest", description: null, version: 1 });

    const v2Definition = {
      steps: [{ id: "research", type: "agent", agentId: agent.id, message: "Dig into {{input.topic}}" }],
    };
    const v2 = await api.patch<WorkflowResponse>(`/v1/workflows/${id}`, {
      token,
      body: { definition: v2Definition },
    });
    expect(v2.status, JSON.stringify(v2.body)).toBe(200);
    expect(v2.body).toMatchObject({ version: 2, definition: v2Definition, inputSchema });

    // The same definition again (keys in another order) is not a new version.
    const same = await api.patch<WorkflowResponse>(`/v1/workflows/${id}`, {
      token,
      body: {
        definition: {
          steps: [{ message: "Dig into {{input.topic}}", agentId: agent.id, type: "agent", id: "research" }],
        },
      },
    });
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(2);

    const v3 = await api.patch<WorkflowResponse>(`/v1/workflows/${id}`, {
      token,
      body: { inputSchema: null },
    });
    expect(v3.body).toMatchObject({ version: 3, inputSchema: null, definition: v2Definition });

    const v1 = await api.get<WorkflowResponse>(`/v1/workflows/${id}?version=1`, { token });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({
      id,
      name: "daily-digest",
      version: 1,
      definition: twoSteps(agent.id),
      inputSchema,
    });
    const missing = await api.get<ProblemBody>(`/v1/workflows/${id}?version=9`, { token });
    expect(missing.status).toBe(404);

    const versions = await api.get<ListWorkflowVersionsResponse>(`/v1/workflows/${id}/versions`, { token });
    expect(versions.status).toBe(200);
    expect(versions.body.data.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(versions.body.data.every((v) => v.createdBy === owner.id)).toBe(true);
    const firstPage = await api.get<ListWorkflowVersionsResponse>(`/v1/workflows/${id}/versions?limit=2`, {
      token,
    });
    expect(firstPage.body.data.map((v) => v.version)).toEqual([3, 2]);
    const secondPage = await api.get<ListWorkflowVersionsResponse>(
      `/v1/workflows/${id}/versions?limit=2&cursor=${firstPage.body.nextCursor}`,
      { token },
    );
    expect(secondPage.body).toMatchObject({ data: [{ version: 1 }], nextCursor: null });

    const audit = await api.get<ListAuditLogsResponse>(`/v1/audit-logs?resourceId=${id}`, { token });
    expect(audit.body.data.map((e) => e.action).sort()).toEqual([
      "workflow.create",
      "workflow.update",
      "workflow.update",
      "workflow.update",
    ]);

    expect((await api.delete(`/v1/workflows/${id}`, { token })).status).toBe(204);
    for (const res of [
      await api.get<ProblemBody>(`/v1/workflows/${id}`, { token }),
      await api.get<ProblemBody>(`/v1/workflows/${id}?version=1`, { token }),
      await api.get<ProblemBody>(`/v1/workflows/${id}/versions`, { token }),
      await api.patch<ProblemBody>(`/v1/workflows/${id}`, { token, body: { name: "back" } }),
      await api.delete<ProblemBody>(`/v1/workflows/${id}`, { token }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    const list = await api.get<ListWorkflowsResponse>("/v1/workflows", { token });
    expect(list.body.data).toEqual([]);
  });

  it("lists newest first with a stable cursor and a name prefix filter", async () => {
    const { token } = await createTenant();
    const ids: string[] = [];
    for (const name of ["ingest-a", "ingest-b", "report", "Ingest_c"]) {
      const res = await create(token, { name, definition: transformOnly });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: ListWorkflowsResponse } = await api.get<ListWorkflowsResponse>(
        `/v1/workflows?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        { token },
      );
      seen.push(...res.body.data.map((w) => w.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const prefixed = await api.get<ListWorkflowsResponse>("/v1/workflows?name=INGEST", { token });
    expect(prefixed.body.data.map((w) => w.name)).toEqual(["Ingest_c", "ingest-b", "ingest-a"]);
    // `_` is a literal underscore, not a LIKE wildcard; "port" is not a prefix of "report".
    const literal = await api.get<ListWorkflowsResponse>("/v1/workflows?name=ingest_", { token });
    expect(literal.body.data.map((w) => w.name)).toEqual(["Ingest_c"]);
    const infix = await api.get<ListWorkflowsResponse>("/v1/workflows?name=port", { token });
    expect(infix.body.data).toEqual([]);
  });

  describe("refuses a definition that cannot run with 422 and the path of each problem", () => {
    it.each([
      [
        "an unknown step reference",
        {
          steps: [
            { id: "a", type: "transform", output: 1, next: "nowhere" },
            { id: "b", type: "transform", output: 2 },
          ],
        },
        ["definition.steps[0].next"],
      ],
      [
        "a cycle",
        {
          steps: [
            { id: "a", type: "transform", output: 1, next: "b" },
            { id: "b", type: "transform", output: 2, next: "a" },
          ],
        },
        ["definition.steps[1].next"],
      ],
      [
        "a template that does not parse",
        { steps: [{ id: "a", type: "transform", output: { x: "{{input.topic" } }] },
        ["definition.steps[0].output.x"],
      ],
      [
        "a template naming a step that has not run",
        { steps: [{ id: "a", type: "transform", output: "{{steps.later.output}}" }] },
        ["definition.steps[0].output"],
      ],
      ["a definition that is not an object", "steps: []", ["definition"]],
    ])("%s", async (_label, definition, paths) => {
      const { token } = await createTenant();
      const res = await create(token, { name: "bad", definition });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.body).toMatchObject({ code: "UNPROCESSABLE", status: 422, instance: "/v1/workflows" });
      expect(pathsOf(res.body)).toEqual(paths);
      expect((await api.get<ListWorkflowsResponse>("/v1/workflows", { token })).body.data).toEqual([]);
    });

    it("more steps than the tenant's limit, counting branches", async () => {
      const { token } = await createTenant({ limits: { maxWorkflowSteps: 3 } });
      const step = (id: string) => ({ id, type: "transform", output: id });
      const fits = await create(token, {
        name: "three",
        definition: { steps: [step("a"), step("b"), step("c")] },
      });
      expect(fits.status, JSON.stringify(fits.body)).toBe(201);
      const tooMany = await create(token, {
        name: "four",
        definition: {
          steps: [
            step("a"),
            { id: "fan", type: "parallel", branches: [{ id: "left", steps: [step("b"), step("c")] }] },
          ],
        },
      });
      expect(tooMany.status, JSON.stringify(tooMany.body)).toBe(422);
      expect(pathsOf(tooMany.body)).toEqual(["definition.steps"]);
    });

    it("agent steps naming no live agent of the tenant, or a version it does not have", async () => {
      const a = await createTenant();
      const b = await createTenant();
      const mine = await createAgent(a.token, "mine");
      const theirs = await createAgent(b.token, "theirs");
      const gone = await createAgent(a.token, "gone");
      expect((await api.delete(`/v1/agents/${gone.id}`, { token: a.token })).status).toBe(204);
      const agentStep = (id: string, agentId: string, extra: Record<string, unknown> = {}) => ({
        id,
        type: "agent",
        agentId,
        message: "go",
        ...extra,
      });
      const res = await create(a.token, {
        name: "agents",
        definition: {
          steps: [
            agentStep("ok", mine.id, { agentVersion: 1 }),
            agentStep("foreign", theirs.id),
            agentStep("never", crypto.randomUUID()),
            agentStep("deleted", gone.id),
            agentStep("pinned", mine.id, { agentVersion: 7 }),
            {
              id: "fan",
              type: "parallel",
              branches: [
                { id: "left", steps: [agentStep("inner-ok", mine.id)] },
                { id: "right", steps: [agentStep("inner-foreign", theirs.id)] },
              ],
            },
          ],
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.errors).toEqual([
        { path: "definition.steps[1].agentId", message: "unknown agent" },
        { path: "definition.steps[2].agentId", message: "unknown agent" },
        { path: "definition.steps[3].agentId", message: "unknown agent" },
        { path: "definition.steps[4].agentVersion", message: `agent ${mine.id} has no version 7` },
        { path: "definition.steps[5].branches[1].steps[0].agentId", message: "unknown agent" },
      ]);

      // Tenant B can use its own agent, and A's is unknown to it.
      const ok = await create(b.token, {
        name: "theirs",
        definition: { steps: [agentStep("s", theirs.id)] },
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      const cross = await create(b.token, { name: "mine", definition: { steps: [agentStep("s", mine.id)] } });
      expect(cross.status).toBe(422);
      expect(pathsOf(cross.body)).toEqual(["definition.steps[0].agentId"]);
    });

    it.each([
      [
        "a root that is not an object schema",
        { type: "array", items: { type: "string" } },
        ["inputSchema.type"],
      ],
      [
        "a keyword of the wrong kind",
        { type: "object", properties: { topic: { type: "strnig" } }, required: "topic" },
        ["inputSchema.properties.topic.type", "inputSchema.required"],
      ],
      [
        "a pattern that does not compile",
        { type: "object", properties: { code: { type: "string", pattern: "([a-z" } } },
        ["inputSchema.properties.code.pattern"],
      ],
      [
        "a $ref that resolves nowhere",
        { type: "object", properties: { who: { $ref: "#/definitions/person" } } },
        ["inputSchema.properties.who.$ref"],
      ],
      ["a remote $ref", { $ref: "https://example.com/schema.json" }, ["inputSchema.$ref"]],
    ])("an input schema with %s", async (_label, schema, paths) => {
      const { token } = await createTenant();
      const res = await create(token, { name: "bad-schema", definition: transformOnly, inputSchema: schema });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.code).toBe("UNPROCESSABLE");
      expect(pathsOf(res.body).sort()).toEqual([...paths].sort());
    });

    it("an input schema that resolves its references is accepted", async () => {
      const { token } = await createTenant();
      const schema = {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        $defs: { person: { type: "object", properties: { name: { type: "string", pattern: "^[A-Z]" } } } },
        properties: { who: { $ref: "#/$defs/person" }, tags: { type: "array", items: { type: "string" } } },
        additionalProperties: false,
      };
      const res = await create(token, { name: "refs", definition: transformOnly, inputSchema: schema });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.inputSchema).toEqual(schema);
    });

    it("on update too, keeping the current version", async () => {
      const { token } = await createTenant();
      const created = await create(token, { name: "keep", definition: transformOnly });
      const res = await api.patch<ProblemBody>(`/v1/workflows/${created.body.id}`, {
        token,
        body: {
          name: "renamed",
          definition: { steps: [{ id: "a", type: "transform", output: 1, next: "missing" }] },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(pathsOf(res.body)).toEqual(["definition.steps[0].next"]);
      const schema = await api.patch<ProblemBody>(`/v1/workflows/${created.body.id}`, {
        token,
        body: { inputSchema: { type: "string" } },
      });
      expect(schema.status).toBe(422);
      const after = await api.get<WorkflowResponse>(`/v1/workflows/${created.body.id}`, { token });
      expect(after.body).toMatchObject({ name: "keep", version: 1, inputSchema: null });
    });

    it("an input schema change that the current definition no longer fits", async () => {
      const { token } = await createTenant();
      const created = await create(token, {
        name: "reads-topic",
        definition: { steps: [{ id: "echo", type: "transform", output: "{{input.topic}}" }] },
        inputSchema,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const res = await api.patch<ProblemBody>(`/v1/workflows/${created.body.id}`, {
        token,
        body: { inputSchema: { type: "object", properties: { subject: { type: "string" } } } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(pathsOf(res.body)).toEqual(["definition.steps[0].output"]);
    });
  });

  it.each([
    ["a missing definition", { name: "x" }, "definition"],
    ["an empty name", { name: "", definition: transformOnly }, "name"],
    ["a name over 200 characters", { name: "n".repeat(201), definition: transformOnly }, "name"],
    [
      "an input schema that is not an object",
      { name: "x", definition: transformOnly, inputSchema: [] },
      "inputSchema",
    ],
    ["an unknown field", { name: "x", definition: transformOnly, owner: "me" }, "(root)"],
  ])("rejects %s with a 400 naming the field", async (_label, body, path) => {
    const { token } = await createTenant();
    const res = await create(token, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED", status: 400 });
    expect(pathsOf(res.body)).toContain(path);
  });

  it("rejects a body that is not JSON with 400", async () => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/workflows", {
      token,
      raw: '{"name": "x", "definition": ',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body.code).toBe("MALFORMED_JSON");
    const empty = await api.patch<ProblemBody>(`/v1/workflows/${crypto.randomUUID()}`, {
      token,
      raw: "not json",
      headers: { "content-type": "application/json" },
    });
    expect(empty.status).toBe(400);
  });

  it("replays a create with the same Idempotency-Key and refuses a different body", async () => {
    const { token } = await createTenant();
    const headers = { "idempotency-key": crypto.randomUUID() };
    const body = { name: "once", definition: transformOnly };
    const first = await api.post<WorkflowResponse>("/v1/workflows", { token, body, headers });
    expect(first.status).toBe(201);
    const again = await api.post<WorkflowResponse>("/v1/workflows", { token, body, headers });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const different = await api.post<ProblemBody>("/v1/workflows", {
      token,
      body: { ...body, name: "twice" },
      headers,
    });
    expect(different.status).toBe(422);
    expect(different.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const list = await api.get<ListWorkflowsResponse>("/v1/workflows", { token });
    expect(list.body.data.map((w) => w.id)).toEqual([first.body.id]);
  });

  it("lets viewers read but not write, and requires a credential", async () => {
    const fixture = await createTenant();
    const viewer = await fixture.keyWithRole("viewer");
    const made = await create(fixture.token, { name: "shared", definition: transformOnly });
    const id = made.body.id;
    for (const res of [
      await create(viewer, { name: "v", definition: transformOnly }),
      await api.patch<ProblemBody>(`/v1/workflows/${id}`, { token: viewer, body: { name: "v" } }),
      await api.delete<ProblemBody>(`/v1/workflows/${id}`, { token: viewer }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("FORBIDDEN");
    }
    for (const path of [`/v1/workflows/${id}`, "/v1/workflows", `/v1/workflows/${id}/versions`]) {
      expect((await api.get(path, { token: viewer })).status).toBe(200);
    }
    await expectRoles(
      fixture,
      { method: "post", path: "/v1/workflows", body: { name: "m", definition: transformOnly } },
      { allowed: ["owner", "admin", "member"], denied: ["viewer"] },
    );
    await expectAuthRequired({ method: "get", path: "/v1/workflows" });
    await expectAuthRequired({
      method: "post",
      path: "/v1/workflows",
      body: { name: "x", definition: transformOnly },
    });
  });

  it("is a wall between tenants: 404 on every route, absent from lists", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const mine = await create(a.token, { name: "private", definition: transformOnly });
    const theirs = await create(b.token, { name: "private", definition: transformOnly });
    expect(theirs.status).toBe(201);
    const id = mine.body.id;
    for (const res of await Promise.all([
      api.get<ProblemBody>(`/v1/workflows/${id}`, { token: b.token }),
      api.get<ProblemBody>(`/v1/workflows/${id}?version=1`, { token: b.token }),
      api.patch<ProblemBody>(`/v1/workflows/${id}`, { token: b.token, body: { name: "stolen" } }),
      api.patch<ProblemBody>(`/v1/workflows/${id}`, { token: b.token, body: { definition: transformOnly } }),
      api.delete<ProblemBody>(`/v1/workflows/${id}`, { token: b.token }),
      api.get<ProblemBody>(`/v1/workflows/${id}/versions`, { token: b.token }),
    ])) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    const list = await api.get<ListWorkflowsResponse>("/v1/workflows?name=priv", { token: b.token });
    expect(list.body.data.map((w) => w.id)).toEqual([theirs.body.id]);
    const stillThere = await api.get<WorkflowResponse>(`/v1/workflows/${id}`, { token: a.token });
    expect(stillThere.body).toMatchObject({ name: "private", version: 1 });
  });
});
