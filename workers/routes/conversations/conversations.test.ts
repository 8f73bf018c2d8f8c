import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant, type TenantFixture } from "../../../test/harness/fixtures";
import type { AgentResponse } from "../agents/schemas";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import { type GetConversationResponse, MAX_MESSAGES } from "./get-conversation";
import type { ListConversationsResponse } from "./list-conversations";
import type { ConversationResponse } from "./schemas";
import { insertConversation } from "./test-fixtures";

async function createAgent(fixture: TenantFixture, name = "analyst"): Promise<string> {
  const res = await api.post<AgentResponse>("/v1/agents", {
    token: fixture.token,
    body: { name, model: "claude-sonnet-4-6" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

describe("conversations", () => {
  it("reads a conversation with its messages in sequence order", async () => {
    const fixture = await createTenant();
    const agentId = await createAgent(fixture);
    const { conversation } = await insertConversation(fixture.tenant.id, agentId, {
      title: "Q3 revenue",
      messageCount: 3,
    });
    const res = await api.get<GetConversationResponse>(`/v1/conversations/${conversation.id}`, {
      token: fixture.token,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: conversation.id,
      agentId,
      title: "Q3 revenue",
      metadata: { source: "fixture" },
      createdBy: null,
      nextMessagesAfter: null,
    });
    expect(res.body.messages.map((m) => [m.sequence, m.role])).toEqual([
      [1, "user"],
      [2, "assistant"],
      [3, "user"],
    ]);
    expect(res.body.messages[1]).toMatchObject({
      content: [{ type: "text", text: "message 2" }],
      model: "claude-sonnet-4-6",
      inputTokens: 11,
      outputTokens: 6,
    });
  });

  it(`returns at most ${MAX_MESSAGES} messages and says where to read on`, async () => {
    const fixture = await createTenant();
    const agentId = await createAgent(fixture);
    const { conversation } = await insertConversation(fixture.tenant.id, agentId, {
      messageCount: MAX_MESSAGES + 5,
    });
    const path = `/v1/conversations/${conversation.id}`;
    const first = await api.get<GetConversationResponse>(path, { token: fixture.token });
    expect(first.body.messages).toHaveLength(MAX_MESSAGES);
    expect(first.body.messages[0]?.sequence).toBe(1);
    expect(first.body.nextMessagesAfter).toBe(MAX_MESSAGES);
    const rest = await api.get<GetConversationResponse>(`${path}?messagesAfter=${MAX_MESSAGES}`, {
      token: fixture.token,
    });
    expect(rest.body.messages.map((m) => m.sequence)).toEqual([201, 202, 203, 204, 205]);
    expect(rest.body.nextMessagesAfter).toBeNull();

    const small = await api.get<GetConversationResponse>(`${path}?messagesLimit=2&messagesAfter=3`, {
      token: fixture.token,
    });
    expect(small.body.messages.map((m) => m.sequence)).toEqual([4, 5]);
    expect(small.body.nextMessagesAfter).toBe(5);
  });

  it("lists newest first, filters by agent and pages with a cursor", async () => {
    const fixture = await createTenant();
    const analyst = await createAgent(fixture, "analyst");
    const writer = await createAgent(fixture, "writer");
    const ids: string[] = [];
    for (const agentId of [analyst, writer, analyst, writer, analyst]) {
      ids.push((await insertConversation(fixture.tenant.id, agentId)).conversation.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: ListConversationsResponse } = await api.get<ListConversationsResponse>(
        `/v1/conversations?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token: fixture.token },
      );
      seen.push(...res.body.data.map((c) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const byWriter = await api.get<ListConversationsResponse>(`/v1/conversations?agentId=${writer}`, {
      token: fixture.token,
    });
    expect(byWriter.body.data.map((c) => c.id)).toEqual([ids[3], ids[1]]);
    expect(byWriter.body.data.every((c) => c.agentId === writer)).toBe(true);
  });

  it("soft-deletes and restores a conversation, and audits both", async () => {
    const fixture = await createTenant();
    const { token } = fixture;
    const agentId = await createAgent(fixture);
    const { conversation } = await insertConversation(fixture.tenant.id, agentId, { messageCount: 2 });
    const path = `/v1/conversations/${conversation.id}`;

    expect((await api.delete(path, { token })).status).toBe(204);
    expect((await api.get<ProblemBody>(path, { token })).body.code).toBe("NOT_FOUND");
    expect((await api.delete<ProblemBody>(path, { token })).status).toBe(404);
    const list = await api.get<ListConversationsResponse>("/v1/conversations", { token });
    expect(list.body.data).toEqual([]);

    const restored = await api.post<ConversationResponse>(`${path}/restore`, { token });
    expect(restored.status).toBe(200);
    expect(restored.body.id).toBe(conversation.id);
    const again = await api.get<GetConversationResponse>(path, { token });
    expect(again.body.messages).toHaveLength(2);
    expect((await api.post<ProblemBody>(`${path}/restore`, { token })).status).toBe(404);

    const log = await api.get<ListAuditLogsResponse>(`/v1/audit-logs?resourceId=${conversation.id}`, {
      token,
    });
    expect(log.body.data.map((e) => [e.action, e.resourceType, e.actorId])).toEqual([
      ["conversation.restore", "conversation", fixture.owner.id],
      ["conversation.delete", "conversation", fixture.owner.id],
    ]);
  });

  it.each([
    ["a non-UUID id", "/v1/conversations/abc", "id"],
    ["a non-UUID agent filter", "/v1/conversations?agentId=abc", "agentId"],
    ["a limit above 100", "/v1/conversations?limit=101", "limit"],
    ["a foreign cursor", "/v1/conversations?cursor=bm90LWEtdXVpZA", "cursor"],
    [
      "a message limit above the cap",
      `/v1/conversations/0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d?messagesLimit=${MAX_MESSAGES + 1}`,
      "messagesLimit",
    ],
    [
      "a negative messagesAfter",
      "/v1/conversations/0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d?messagesAfter=-1",
      "messagesAfter",
    ],
  ])("rejects %s with a 400 naming the field", async (_label, path, field) => {
    const { token } = await createTenant();
    const res = await api.get<ProblemBody>(path, { token });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.map((e) => e.path)).toContain(field);
  });

  it("is invisible across tenants: 404 on every route, empty lists", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const agentId = await createAgent(a);
    const { conversation } = await insertConversation(a.tenant.id, agentId, { messageCount: 1 });
    const id = conversation.id;
    const attempts = [
      api.get(`/v1/conversations/${id}`, { token: b.token }),
      api.delete(`/v1/conversations/${id}`, { token: b.token }),
      api.post(`/v1/conversations/${id}/restore`, { token: b.token }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ code: "NOT_FOUND" });
    }
    for (const path of ["/v1/conversations", `/v1/conversations?agentId=${agentId}`]) {
      const list = await api.get<ListConversationsResponse>(path, { token: b.token });
      expect(list.body.data).toEqual([]);
    }
    const stillThere = await api.get<GetConversationResponse>(`/v1/conversations/${id}`, { token: a.token });
    expect(stillThere.body.messages).toHaveLength(1);
  });

  it("requires a credential and the right role", async () => {
    const fixture = await createTenant();
    const agentId = await createAgent(fixture);
    const { conversation } = await insertConversation(fixture.tenant.id, agentId);
    const one = `/v1/conversations/${conversation.id}`;
    await expectAuthRequired({ method: "get", path: "/v1/conversations" });
    await expectAuthRequired({ method: "get", path: one });
    await expectAuthRequired({ method: "delete", path: one });
    await expectAuthRequired({ method: "post", path: `${one}/restore` });
    for (const path of ["/v1/conversations", one]) {
      await expectRoles(
        fixture,
        { method: "get", path },
        { allowed: ["owner", "admin", "member", "viewer"], denied: [] },
      );
    }
    await expectRoles(
      fixture,
      { method: "delete", path: one },
      { allowed: ["owner", "admin", "member"], denied: ["viewer"] },
    );
    await expectRoles(
      fixture,
      { method: "post", path: `${one}/restore` },
      { allowed: ["owner", "admin", "member"], denied: ["viewer"] },
    );
  });
});
