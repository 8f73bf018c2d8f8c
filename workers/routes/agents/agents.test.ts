import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import type { ListAgentsResponse } from "./list-agents";
import type { AgentResponse, AgentVersionResponse } from "./schemas";

/** A collection id: a knowledge-base tool's collections are looked up when it runs, not when it is saved. */
const KNOWLEDGE_BASE_ID = "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d";

const definition = {
  name: "analyst",
  model: "claude-sonnet-4-6",
  systemPrompt: "You are a concise analyst.",
  tools: [{ name: "search_docs", type: "knowledge_base", config: { collectionIds: [KNOWLEDGE_BASE_ID] } }],
  capabilities: ["data_analysis"],
  resourceLimits: { maxTokens: 8000, maxExecutionSeconds: 300 },
};

describe("agents", () => {
  it("creates, reads, lists, versions, deletes and restores an agent", async () => {
    const { token } = await createTenant();
    const created = await api.post<AgentResponse>("/v1/agents", { token, body: definition });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...definition, version: 1, description: null });
    expect(created.headers.get("location")).toBe(`/v1/agents/${created.body.id}`);
    const id = created.body.id;

    const got = await api.get<AgentResponse>(`/v1/agents/${id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const patched = await api.patch<AgentResponse>(`/v1/agents/${id}`, {
      token,
      body: { systemPrompt: "Be brief.", metadata: { team: "ops" } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ version: 2, systemPrompt: "Be brief.", metadata: { team: "ops" } });

    const metadataOnly = await api.patch<AgentResponse>(`/v1/agents/${id}`, {
      token,
      body: { metadata: { team: "x" } },
    });
    expect(metadataOnly.body.version).toBe(2);

    const v1 = await api.get<AgentVersionResponse>(`/v1/agents/${id}/versions/1`, { token });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1, systemPrompt: definition.systemPrompt, agentId: id });
    const versions = await api.get<{ data: AgentVersionResponse[] }>(`/v1/agents/${id}/versions`, { token });
    expect(versions.body.data.map((v) => v.version)).toEqual([2, 1]);

    const deleted = await api.delete(`/v1/agents/${id}`, { token });
    expect(deleted.status).toBe(204);
    expect((await api.get(`/v1/agents/${id}`, { token })).status).toBe(404);
    const list = await api.get<ListAgentsResponse>("/v1/agents", { token });
    expect(list.body.data).toEqual([]);

    const restored = await api.post<AgentResponse>(`/v1/agents/${id}/restore`, { token });
    expect(restored.status).toBe(200);
    expect((await api.get(`/v1/agents/${id}`, { token })).status).toBe(200);
  });

  it("pages through a list newest first with a stable cursor", async () => {
    const { token } = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.post<AgentResponse>("/v1/agents", {
        token,
        body: { ...definition, name: `agent-${i}` },
      });
      ids.push(res.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: ListAgentsResponse } = await api.get<ListAgentsResponse>(
        `/v1/agents?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token },
      );
      seen.push(...res.body.data.map((a) => a.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const filtered = await api.get<ListAgentsResponse>("/v1/agents?name=AGENT-3", { token });
    expect(filtered.body.data.map((a) => a.name)).toEqual(["agent-3"]);
    const bad = await api.get<ProblemBody>("/v1/agents?cursor=bm90LWEtdXVpZA", { token });
    expect(bad.status).toBe(400);
  });

  it("refuses a built-in tool that does not exist with 422, and accepts ones resolved at run time", async () => {
    const { token } = await createTenant();
    const bad = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: { ...definition, tools: [{ name: "teleport", type: "builtin" }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.path)).toEqual(["tools.0.name"]);
    const ok = await api.post("/v1/agents", {
      token,
      body: {
        ...definition,
        tools: [
          { name: "calculator", type: "builtin" },
          { name: "search_docs", type: "knowledge_base", config: { collectionIds: [KNOWLEDGE_BASE_ID] } },
        ],
      },
    });
    expect(ok.status).toBe(201);
  });

  it("refuses a model or limits the tenant does not allow with 422", async () => {
    const { token } = await createTenant({
      limits: { maxTokens: 10_000 },
      settings: { allowedModels: ["claude-haiku-4-5"] },
    });
    const unknown = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: { ...definition, model: "gpt-9" },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ code: "UNPROCESSABLE" });
    expect(unknown.body.errors?.map((e) => e.path)).toEqual(["model"]);

    const tooBig = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: { ...definition, model: "claude-haiku-4-5", resourceLimits: { maxTokens: 20_000 } },
    });
    expect(tooBig.status).toBe(422);
    expect(tooBig.body.errors?.map((e) => e.path)).toEqual(["resourceLimits.maxTokens"]);
  });

  it.each([
    ["missing name", { model: "claude-sonnet-4-6" }, "name"],
    ["wrong type", { ...definition, tools: "all" }, "tools"],
    ["unknown field", { ...definition, owner: "me" }, "(root)"],
    ["bad tool name", { ...definition, tools: [{ name: "a b", type: "builtin" }] }, "tools.0.name"],
    ["unknown limit", { ...definition, resourceLimits: { gpus: 4 } }, "resourceLimits"],
  ])("rejects %s with a 400 problem naming the field", async (_label, body, path) => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/agents", { token, body });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED", status: 400, instance: "/v1/agents" });
    expect(res.body.errors?.some((e) => e.path === path)).toBe(true);
  });

  it("is invisible across tenants: 404 on every route, empty lists", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const agent = await api.post<AgentResponse>("/v1/agents", { token: a.token, body: definition });
    const id = agent.body.id;
    const attempts = [
      api.get(`/v1/agents/${id}`, { token: b.token }),
      api.patch(`/v1/agents/${id}`, { token: b.token, body: { name: "stolen" } }),
      api.delete(`/v1/agents/${id}`, { token: b.token }),
      api.post(`/v1/agents/${id}/restore`, { token: b.token }),
      api.get(`/v1/agents/${id}/versions`, { token: b.token }),
      api.get(`/v1/agents/${id}/versions/1`, { token: b.token }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: "NOT_FOUND" });
    }
    const list = await api.get<ListAgentsResponse>("/v1/agents", { token: b.token });
    expect(list.body.data).toEqual([]);
    const stillThere = await api.get<AgentResponse>(`/v1/agents/${id}`, { token: a.token });
    expect(stillThere.body.name).toBe("analyst");
  });

  it("requires a credential and the right role", async () => {
    const fixture = await createTenant();
    await expectAuthRequired({ method: "get", path: "/v1/agents" });
    await expectAuthRequired({ method: "post", path: "/v1/agents", body: definition });
    await expectRoles(
      fixture,
      { method: "post", path: "/v1/agents", body: definition },
      {
        allowed: ["owner", "admin", "member"],
        denied: ["viewer"],
      },
    );
    await expectRoles(fixture, { method: "get", path: "/v1/agents" }, { allowed: ["viewer"], denied: [] });
  });

  it("replays a create with the same Idempotency-Key and refuses a different body", async () => {
    const { token } = await createTenant();
    const headers = { "idempotency-key": crypto.randomUUID() };
    const first = await api.post<AgentResponse>("/v1/agents", { token, body: definition, headers });
    const again = await api.post<AgentResponse>("/v1/agents", { token, body: definition, headers });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const list = await api.get<ListAgentsResponse>("/v1/agents", { token });
    expect(list.body.data).toHaveLength(1);

    const different = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: { ...definition, name: "other" },
      headers,
    });
    expect(different.status).toBe(422);
    expect(different.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });
});
