import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import type { AgentResponse } from "../agents/schemas";
import type { CreatedApiKeyResponse } from "../api-keys/schemas";
import type { ListAuditLogsResponse } from "./list-audit-logs";

const agent = { name: "analyst", model: "claude-sonnet-4-6" };

describe("audit logs", () => {
  it("records who did what, with the request id the caller sent", async () => {
    const { token, owner } = await createTenant();
    const requestId = `test-${crypto.randomUUID()}`;
    const created = await api.post<AgentResponse>("/v1/agents", {
      token,
      body: agent,
      headers: { "x-request-id": requestId, "cf-connecting-ip": "203.0.113.7" },
    });
    expect(created.status).toBe(201);
    const res = await api.get<ListAuditLogsResponse>("/v1/audit-logs?action=agent.create", { token });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({
      actorType: "user",
      actorId: owner.id,
      action: "agent.create",
      resourceType: "agent",
      resourceId: created.body.id,
      requestId,
      ip: "203.0.113.7",
      changes: { name: "analyst", model: "claude-sonnet-4-6" },
    });
  });

  it("filters by action, resource, actor and time", async () => {
    const { token, owner } = await createTenant();
    const key = await api.post<CreatedApiKeyResponse>("/v1/api-keys", {
      token,
      body: { name: "ci", role: "admin" },
    });
    const one = await api.post<AgentResponse>("/v1/agents", { token, body: agent });
    const two = await api.post<AgentResponse>("/v1/agents", {
      token: key.body.key,
      body: { ...agent, name: "b" },
    });
    await api.patch(`/v1/agents/${one.body.id}`, { token, body: { systemPrompt: "Be brief." } });

    const list = async (query: string) =>
      (await api.get<ListAuditLogsResponse>(`/v1/audit-logs?${query}`, { token })).body.data.map((e) => [
        e.action,
        e.resourceId,
      ]);
    expect(await list("resourceType=agent")).toEqual([
      ["agent.update", one.body.id],
      ["agent.create", two.body.id],
      ["agent.create", one.body.id],
    ]);
    expect(await list(`resourceId=${one.body.id}`)).toEqual([
      ["agent.update", one.body.id],
      ["agent.create", one.body.id],
    ]);
    expect(await list(`actorId=${key.body.id}`)).toEqual([["agent.create", two.body.id]]);
    expect(await list(`actorId=${owner.id}&action=api_key.create`)).toEqual([
      ["api_key.create", key.body.id],
    ]);
    expect(await list("action=agent.delete")).toEqual([]);

    const now = Date.now();
    const past = new Date(now - 3_600_000).toISOString();
    const future = new Date(now + 3_600_000).toISOString();
    expect(await list(`resourceType=agent&since=${past}&until=${future}`)).toHaveLength(3);
    expect(await list(`resourceType=agent&since=${future}`)).toEqual([]);
    expect(await list(`resourceType=agent&until=${past}`)).toEqual([]);
  });

  it("pages newest first with a cursor", async () => {
    const { token } = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await api.post<AgentResponse>("/v1/agents", { token, body: { ...agent, name: `a${i}` } })).body.id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: ListAuditLogsResponse } = await api.get<ListAuditLogsResponse>(
        `/v1/audit-logs?action=agent.create&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token },
      );
      seen.push(...res.body.data.map((e) => e.resourceId ?? ""));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it.each([
    ["a date that is not ISO 8601", "since=yesterday", "since"],
    [
      "a time range that ends before it starts",
      "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
      "until",
    ],
    ["an unknown cursor", "cursor=bm90LWEtdXVpZA", "cursor"],
    ["a limit of 0", "limit=0", "limit"],
  ])("rejects %s with a 400 naming the field", async (_label, query, path) => {
    const { token } = await createTenant();
    const res = await api.get<ProblemBody>(`/v1/audit-logs?${query}`, { token });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("never shows another tenant's entries", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const created = await api.post<AgentResponse>("/v1/agents", { token: a.token, body: agent });
    const seenByB = await api.get<ListAuditLogsResponse>(`/v1/audit-logs?resourceId=${created.body.id}`, {
      token: b.token,
    });
    expect(seenByB.body.data).toEqual([]);
    const all = await api.get<ListAuditLogsResponse>("/v1/audit-logs?limit=100", { token: b.token });
    expect(all.body.data.length).toBeGreaterThan(0);
    expect(JSON.stringify(all.body)).not.toContain(created.body.id);
    expect(JSON.stringify(all.body)).not.toContain(a.tenant.id);
  });

  it("requires a credential and an owner or admin", async () => {
    const fixture = await createTenant();
    await expectAuthRequired({ method: "get", path: "/v1/audit-logs" });
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/audit-logs" },
      { allowed: ["owner", "admin"], denied: ["member", "viewer"] },
    );
  });
});
