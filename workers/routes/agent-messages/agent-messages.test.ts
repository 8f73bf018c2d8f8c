import { describe, expect, it } from "vitest";
import { agentMessages, agentTasks } from "../../../db/schema";
import type { AgentMessage } from "../../../db/types";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant, type TenantFixture } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import { newId } from "../../lib/ids";
import type { AgentResponse } from "../agents/schemas";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ListAgentMessagesResponse } from "./list-agent-messages";
import type { AgentMessageResponse } from "./schemas";

async function createAgent(token: string, name: string, tools: unknown[] = []): Promise<AgentResponse> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token,
    body: { name, model: "claude-sonnet-4-6", tools },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/**
 * A supervisor that asked a worker once (through the real agent tool): the tenant's agents and
 * the delegation's request and response.
 */
async function delegated(fixture: TenantFixture) {
  const worker = await createAgent(fixture.token, "worker");
  const supervisor = await createAgent(fixture.token, "supervisor", [
    { name: "ask_worker", type: "agent", config: { agentId: worker.id } },
  ]);
  const scenario = await scriptModel([
    {
      message: {
        content: [{ type: "tool_use", id: "toolu_1", name: "ask_worker", input: { message: "Hi" } }],
      },
    },
    { message: { content: [{ type: "text", text: "Hello from the worker." }] } },
    { message: { content: [{ type: "text", text: "The worker says hello." }] } },
  ]);
  const res = await api.post(`/v1/agents/${supervisor.id}/execute`, {
    token: fixture.token,
    headers: { "x-model-scenario": scenario },
    body: { message: "Greet via the worker." },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(await modelRequests(scenario)).toHaveLength(3);
  const list = await api.get<ListAgentMessagesResponse>("/v1/agent-messages", { token: fixture.token });
  const [response, request] = list.body.data;
  if (!request || !response) throw new Error("expected a request and a response");
  return { worker, supervisor, request, response };
}

/** Messages stored directly, for paging (the agent tool writes two per delegation). */
async function insertMessages(
  tenantId: string,
  from: string,
  to: string,
  count: number,
): Promise<AgentMessage[]> {
  return withTenantDb(tenantId, async (db) => {
    const [task] = await db.insert(agentTasks).values({ tenantId, agentId: to }).returning();
    const rows: AgentMessage[] = [];
    for (let i = 0; i < count; i++) {
      const [row] = await db
        .insert(agentMessages)
        .values({
          tenantId,
          taskId: task?.id,
          senderAgentId: from,
          recipientAgentId: to,
          messageType: "event",
          content: { progress: i },
        })
        .returning();
      if (row) rows.push(row);
    }
    return rows;
  });
}

describe("GET /v1/agent-messages", () => {
  it("lists a delegation's request and response, newest first, filtered by task, agent and type", async () => {
    const fixture = await createTenant();
    const { token } = fixture;
    const { worker, supervisor, request, response } = await delegated(fixture);
    expect(request).toMatchObject({
      messageType: "request",
      senderAgentId: supervisor.id,
      recipientAgentId: worker.id,
      content: { message: "Hi" },
      executionId: null,
      readAt: null,
    });
    expect(response).toMatchObject({
      messageType: "response",
      senderAgentId: worker.id,
      recipientAgentId: supervisor.id,
      taskId: request.taskId,
      content: { output: "Hello from the worker." },
    });
    const other = await createAgent(token, "bystander");
    await insertMessages(fixture.tenant.id, other.id, other.id, 1);

    const ids = async (query: string) =>
      (await api.get<ListAgentMessagesResponse>(`/v1/agent-messages${query}`, { token })).body.data.map(
        (m) => m.id,
      );
    expect(await ids(`?taskId=${request.taskId}`)).toEqual([response.id, request.id]);
    expect(await ids(`?agentId=${worker.id}`)).toEqual([response.id, request.id]);
    expect(await ids(`?agentId=${supervisor.id}&messageType=request`)).toEqual([request.id]);
    expect(await ids("?messageType=response")).toEqual([response.id]);
    expect(await ids(`?executionId=${newId()}`)).toEqual([]);
    expect(await ids(`?agentId=${other.id}`)).toHaveLength(1);

    const one = await api.get<AgentMessageResponse>(`/v1/agent-messages/${request.id}`, { token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(request);
  });

  it("pages with a cursor and never repeats or skips a message", async () => {
    const { token, tenant } = await createTenant();
    const a = await createAgent(token, "a");
    const b = await createAgent(token, "b");
    const stored = await insertMessages(tenant.id, a.id, b.id, 5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const page = await api.get<ListAgentMessagesResponse>(`/v1/agent-messages${query}`, { token });
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((m) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    // Newest first by id (ids minted in one millisecond are ordered by their random part).
    expect(seen).toEqual(
      stored
        .map((m) => m.id)
        .sort()
        .reverse(),
    );
  });

  it("rejects bad filters (400)", async () => {
    const { token } = await createTenant();
    for (const query of ["?messageType=gossip", "?taskId=nope", "?cursor=not-a-cursor", "?limit=0"]) {
      const res = await api.get<ProblemBody>(`/v1/agent-messages${query}`, { token });
      expect(res.status, query).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
    }
    const missing = await api.get<ProblemBody>(`/v1/agent-messages/${newId()}`, { token });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("NOT_FOUND");
  });

  it("keeps messages behind the tenant wall", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { request, worker } = await delegated(a);
    const list = await api.get<ListAgentMessagesResponse>(`/v1/agent-messages?agentId=${worker.id}`, {
      token: b.token,
    });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    const all = await api.get<ListAgentMessagesResponse>("/v1/agent-messages", { token: b.token });
    expect(all.body.data).toEqual([]);
    const one = await api.get<ProblemBody>(`/v1/agent-messages/${request.id}`, { token: b.token });
    expect(one.status).toBe(404);
    expect(one.body.code).toBe("NOT_FOUND");
  });

  it("needs a credential, and agents:read (every role has it)", async () => {
    const fixture = await createTenant();
    await expectAuthRequired({ method: "get", path: "/v1/agent-messages" });
    await expectAuthRequired({ method: "get", path: `/v1/agent-messages/${newId()}` });
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/agent-messages" },
      { allowed: ["owner", "admin", "member", "viewer"], denied: [] },
    );
  });
});
