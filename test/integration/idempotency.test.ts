import { describe, expect, it } from "vitest";
import type { ListAgentsResponse } from "../../workers/routes/agents/list-agents";
import type { AgentResponse } from "../../workers/routes/agents/schemas";
import { api, type ProblemBody } from "../harness/api";
import { createTenant } from "../harness/fixtures";
import { skipUnlessServer } from "../harness/stack";

const body = { name: "once", model: "claude-sonnet-4-6" };

describe("Idempotency-Key", () => {
  it("concurrent duplicates create one agent: the rest replay it or answer 409 in flight", async (ctx) => {
    skipUnlessServer(ctx, "concurrent transactions");
    const { token } = await createTenant();
    const headers = { "idempotency-key": crypto.randomUUID() };
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        api.post<AgentResponse & ProblemBody>("/v1/agents", { token, body, headers }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    for (const res of results.filter((r) => r.status === 409))
      expect(res.body.code).toBe("IDEMPOTENCY_IN_FLIGHT");
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(ids.size).toBe(1);

    const list = await api.get<ListAgentsResponse>("/v1/agents", { token });
    expect(list.body.data.map((a) => a.id)).toEqual([...ids]);
    const later = await api.post<AgentResponse>("/v1/agents", { token, body, headers });
    expect(later.status).toBe(201);
    expect(later.body.id).toBe([...ids][0]);
  });

  it("is scoped to the credential: another principal's same key is a different request", async () => {
    const fixture = await createTenant();
    const key = await fixture.keyWithRole("member");
    const headers = { "idempotency-key": "shared-key-1" };
    const byOwner = await api.post<AgentResponse>("/v1/agents", { token: fixture.token, body, headers });
    const byKey = await api.post<AgentResponse>("/v1/agents", { token: key, body, headers });
    expect(byOwner.status).toBe(201);
    expect(byKey.status).toBe(201);
    expect(byKey.body.id).not.toBe(byOwner.body.id);
  });

  it("does not keep failures: a corrected retry under the same key goes through", async () => {
    const { token } = await createTenant();
    const headers = { "idempotency-key": crypto.randomUUID() };
    const bad = await api.post<ProblemBody>("/v1/agents", {
      token,
      body: { ...body, model: "no-such-model" },
      headers,
    });
    expect(bad.status).toBe(422);
    const good = await api.post<AgentResponse>("/v1/agents", { token, body, headers });
    expect(good.status).toBe(201);
    const replay = await api.post<AgentResponse>("/v1/agents", { token, body, headers });
    expect(replay.body.id).toBe(good.body.id);
  });

  it("refuses a key that is not 1-255 printable characters", async () => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/agents", {
      token,
      body,
      headers: { "idempotency-key": "x".repeat(256) },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("VALIDATION_FAILED");
  });

  it("replays nothing to a caller who has lost the permission since", async () => {
    const fixture = await createTenant();
    const headers = { "idempotency-key": crypto.randomUUID() };
    // A user session, since a user's role can change under the same credential.
    const invited = await api.post("/v1/invitations", {
      token: fixture.token,
      body: { email: "m@example.com", role: "member" },
    });
    expect(invited.status).toBe(201);
    const { takeSentEmails } = await import("../../workers/lib/email");
    const token = takeSentEmails("m@example.com")
      .at(-1)
      ?.text.match(/mri_[A-Za-z0-9_-]+/)?.[0];
    const member = await api.post<{ accessToken: string }>("/v1/invitations/accept", {
      body: { token, password: "a-long-enough-password" },
    });
    const created = await api.post<AgentResponse>("/v1/agents", {
      token: member.body.accessToken,
      body,
      headers,
    });
    expect(created.status).toBe(201);
    const users = await api.get<{ data: { id: string; email: string }[] }>("/v1/users", {
      token: fixture.token,
    });
    const id = users.body.data.find((u) => u.email === "m@example.com")?.id;
    await api.patch(`/v1/users/${id}`, { token: fixture.token, body: { role: "viewer" } });
    const replay = await api.post<ProblemBody>("/v1/agents", {
      token: member.body.accessToken,
      body,
      headers,
    });
    expect(replay.status).toBe(403);
    expect(replay.body.code).toBe("FORBIDDEN");
  });
});
