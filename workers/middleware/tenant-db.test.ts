import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../test/harness/api";
import { createTenant, PLATFORM_ADMIN_TOKEN } from "../../test/harness/fixtures";

/** Credentials are re-checked against the database on every request, not only at sign-in. */
describe("tenant transaction re-checks the credential", () => {
  it("a suspended tenant's tokens and keys stop working at once; the platform admin still reaches it", async () => {
    const fixture = await createTenant();
    const key = await fixture.keyWithRole("member");
    const suspend = await api.patch(`/v1/tenants/${fixture.tenant.id}`, {
      token: PLATFORM_ADMIN_TOKEN,
      body: { status: "suspended" },
    });
    expect(suspend.status).toBe(200);
    for (const token of [fixture.token, key]) {
      const res = await api.get<ProblemBody>("/v1/agents", { token });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("FORBIDDEN");
    }
    const refreshed = await api.post<ProblemBody>("/v1/auth/refresh", {
      body: { refreshToken: fixture.tokens.refreshToken },
    });
    expect(refreshed.status).toBe(401);
    const asAdmin = await api.get(`/v1/tenants/${fixture.tenant.id}`, { token: PLATFORM_ADMIN_TOKEN });
    expect(asAdmin.status).toBe(200);
    await api.patch(`/v1/tenants/${fixture.tenant.id}`, {
      token: PLATFORM_ADMIN_TOKEN,
      body: { status: "active" },
    });
    expect((await api.get("/v1/agents", { token: key })).status).toBe(200);
  });

  it("a disabled user's access token stops working at once, and a role change applies at once", async () => {
    const owner = await createTenant();
    const invited = await api.post<{ id: string }>("/v1/invitations", {
      token: owner.token,
      body: { email: "ada@example.com", role: "admin" },
    });
    expect(invited.status).toBe(201);
    const { takeSentEmails } = await import("../lib/email");
    const mail = takeSentEmails("ada@example.com").at(-1);
    const token = mail?.text.match(/mri_[A-Za-z0-9_-]+/)?.[0];
    expect(token).toBeDefined();
    const accepted = await api.post<{ accessToken: string }>("/v1/invitations/accept", {
      body: { token, password: "a-long-enough-password" },
    });
    expect(accepted.status).toBe(201);
    const adaToken = accepted.body.accessToken;
    const users = await api.get<{ data: { id: string; email: string }[] }>("/v1/users", {
      token: owner.token,
    });
    const ada = users.body.data.find((u) => u.email === "ada@example.com");
    expect(ada).toBeDefined();

    expect((await api.get("/v1/users", { token: adaToken })).status).toBe(200);
    await api.patch(`/v1/users/${ada?.id}`, { token: owner.token, body: { role: "viewer" } });
    const demoted = await api.post<ProblemBody>("/v1/agents", {
      token: adaToken,
      body: { name: "x", model: "claude-sonnet-4-6" },
    });
    expect(demoted.status).toBe(403);

    await api.patch(`/v1/users/${ada?.id}`, { token: owner.token, body: { status: "disabled" } });
    const disabled = await api.get<ProblemBody>("/v1/agents", { token: adaToken });
    expect(disabled.status).toBe(401);
    expect(disabled.body.code).toBe("UNAUTHENTICATED");
  });

  it("a GET runs read-only: the transaction cannot write", async () => {
    const { token } = await createTenant();
    const before = await api.get<{ data: unknown[] }>("/v1/audit-logs", { token });
    await api.get("/v1/agents", { token });
    await api.get("/v1/tenant", { token });
    const after = await api.get<{ data: unknown[] }>("/v1/audit-logs", { token });
    expect(after.body.data.length).toBe(before.body.data.length);
  });
});
