import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLogs, invitations } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { takeSentEmails } from "../../lib/email";
import type { TokenPair } from "../auth/schemas";
import type { ListUsersResponse } from "../users/list-users";
import type { CreateInvitationResponse } from "./create-invitation";
import type { ListInvitationsResponse } from "./list-invitations";
import { asTenant, freshIp, INVITATION_TOKEN, invite, tokenFromOutbox, uniqueEmail } from "./test-fixtures";

const password = "correct horse battery staple";
const INVALID = "The invitation is invalid, expired or already used.";

describe("invitations", () => {
  it("invite -> email -> accept signs the new user in; the token works once", async () => {
    const owner = await createTenant();
    const email = uniqueEmail("ada");
    const created = await api.post<CreateInvitationResponse>("/v1/invitations", {
      token: owner.token,
      body: { email: email.toUpperCase(), role: "admin" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, role: "admin", invitedByUserId: owner.owner.id });
    expect(Object.keys(created.body).sort()).toEqual(
      ["createdAt", "email", "expiresAt", "id", "invitedByUserId", "role"].sort(),
    );
    expect(JSON.stringify(created.body)).not.toMatch(/mri_/);
    const days = (Date.parse(created.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);

    const mails = takeSentEmails(email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe("Your Meridian invitation");
    const token = mails[0]?.text.match(INVITATION_TOKEN)?.[0] as string;
    expect(token).toBeDefined();

    const pending = await api.get<ListInvitationsResponse>("/v1/invitations", { token: owner.token });
    expect(pending.body.data.map((i) => i.id)).toEqual([created.body.id]);

    const accepted = await api.post<TokenPair>("/v1/invitations/accept", {
      headers: freshIp(),
      body: { token, name: "Ada Lovelace", password },
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ tokenType: "Bearer" });
    const agents = await api.get("/v1/agents", { token: accepted.body.accessToken });
    expect(agents.status).toBe(200);
    // An admin: may manage users.
    const users = await api.get<ListUsersResponse>("/v1/users", { token: accepted.body.accessToken });
    const ada = users.body.data.find((u) => u.email === email);
    expect(ada).toMatchObject({ name: "Ada Lovelace", role: "admin", status: "active" });

    const refreshed = await api.post<TokenPair>("/v1/auth/refresh", {
      headers: freshIp(),
      body: { refreshToken: accepted.body.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    const login = await api.post("/v1/auth/login", {
      headers: freshIp(),
      body: { tenant: owner.tenant.slug, email, password },
    });
    expect(login.status).toBe(200);

    const again = await api.post<ProblemBody>("/v1/invitations/accept", {
      headers: freshIp(),
      body: { token, password: "another long password" },
    });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ code: "UNAUTHENTICATED", detail: INVALID });
    const after = await api.get<ListInvitationsResponse>("/v1/invitations", { token: owner.token });
    expect(after.body.data).toEqual([]);

    const [entry] = await asTenant(owner.tenant.id, (db) =>
      db
        .select()
        .from(auditLogs)
        .where(and(eq(auditLogs.tenantId, db.tenantId), eq(auditLogs.action, "invitation.accept"))),
    );
    expect(entry).toMatchObject({ actorType: "user", actorId: ada?.id, resourceId: ada?.id });
  });

  it("answers every bad token with the same 401: unknown, revoked, expired, replaced", async () => {
    const owner = await createTenant();
    const attempt = (token: string) =>
      api.post<ProblemBody>("/v1/invitations/accept", { headers: freshIp(), body: { token, password } });

    const unknown = await attempt(`mri_${"A".repeat(43)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ code: "UNAUTHENTICATED", detail: INVALID });
    expect(unknown.headers.get("content-type")).toBe("application/problem+json");

    const revoked = await invite(owner.token, uniqueEmail(), "member");
    expect(
      (await api.delete(`/v1/invitations/${revoked.invitation.id}`, { token: owner.token })).status,
    ).toBe(204);
    expect((await attempt(revoked.token)).body).toMatchObject({ status: 401, detail: INVALID });

    const expired = await invite(owner.token, uniqueEmail(), "member");
    await asTenant(owner.tenant.id, (db) =>
      db
        .update(invitations)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(invitations.id, expired.invitation.id)),
    );
    expect((await attempt(expired.token)).body).toMatchObject({ status: 401, detail: INVALID });
    const listed = await api.get<ListInvitationsResponse>("/v1/invitations", { token: owner.token });
    expect(listed.body.data.map((i) => i.id)).not.toContain(expired.invitation.id);

    // Inviting the same address again replaces the pending invitation: only the newest mail works.
    const email = uniqueEmail();
    const first = await invite(owner.token, email, "viewer");
    const second = await invite(owner.token, email, "member");
    expect((await attempt(first.token)).status).toBe(401);
    const pending = await api.get<ListInvitationsResponse>("/v1/invitations", { token: owner.token });
    expect(pending.body.data.filter((i) => i.email === email).map((i) => i.id)).toEqual([
      second.invitation.id,
    ]);
    expect((await attempt(second.token)).status).toBe(201);
  });

  it("refuses to invite an address that already has a user (409), case-insensitively", async () => {
    const owner = await createTenant();
    const res = await api.post<ProblemBody>("/v1/invitations", {
      token: owner.token,
      body: { email: owner.owner.email.toUpperCase(), role: "member" },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("CONFLICT");
    expect(takeSentEmails(owner.owner.email)).toEqual([]);
  });

  it("cannot revoke an accepted invitation (409)", async () => {
    const owner = await createTenant();
    const { invitation, token } = await invite(owner.token, uniqueEmail(), "member");
    expect(
      (await api.post("/v1/invitations/accept", { headers: freshIp(), body: { token, password } })).status,
    ).toBe(201);
    const res = await api.delete<ProblemBody>(`/v1/invitations/${invitation.id}`, { token: owner.token });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("CONFLICT");
  });

  it.each([
    ["unknown field", { email: "a@example.com", role: "member", token: "x" }, "(root)"],
    ["bad email", { email: "not-an-email", role: "member" }, "email"],
    ["unknown role", { email: "a@example.com", role: "superuser" }, "role"],
    ["missing email", { role: "member" }, "email"],
  ])("create rejects %s with a 400 naming the field", async (_label, body, path) => {
    const owner = await createTenant();
    const res = await api.post<ProblemBody>("/v1/invitations", { token: owner.token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED", instance: "/v1/invitations" });
    expect(res.body.errors?.some((e) => e.path === path)).toBe(true);
  });

  it.each([
    ["short password", { token: `mri_${"A".repeat(43)}`, password: "short" }, "password"],
    ["unknown field", { token: `mri_${"A".repeat(43)}`, password, role: "owner" }, "(root)"],
    ["missing token", { password }, "token"],
    ["empty name", { token: `mri_${"A".repeat(43)}`, password, name: " " }, "name"],
  ])("accept rejects %s with a 400 naming the field", async (_label, body, path) => {
    const res = await api.post<ProblemBody>("/v1/invitations/accept", { headers: freshIp(), body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.some((e) => e.path === path)).toBe(true);
  });

  it("requires a credential and users:write; nobody invites above their own role", async () => {
    const fixture = await createTenant();
    const body = { email: uniqueEmail(), role: "viewer" };
    await expectAuthRequired({ method: "post", path: "/v1/invitations", body });
    await expectAuthRequired({ method: "get", path: "/v1/invitations" });
    await expectAuthRequired({ method: "delete", path: `/v1/invitations/${crypto.randomUUID()}` });
    await expectRoles(
      fixture,
      { method: "post", path: "/v1/invitations", body },
      { allowed: ["admin"], denied: ["member", "viewer"] },
    );
    takeSentEmails(body.email);
    await expectRoles(
      fixture,
      { method: "delete", path: `/v1/invitations/${crypto.randomUUID()}` },
      { allowed: ["admin", "owner"], denied: ["member", "viewer"] },
    );
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/invitations" },
      { allowed: ["viewer"], denied: [] },
    );

    const admin = await fixture.keyWithRole("admin");
    const ownerInvite = await api.post<ProblemBody>("/v1/invitations", {
      token: admin,
      body: { email: uniqueEmail(), role: "owner" },
    });
    expect(ownerInvite.status).toBe(403);
    expect(ownerInvite.body.code).toBe("FORBIDDEN");

    // An owner's invitation to a new owner is beyond an admin to revoke.
    const { invitation } = await invite(fixture.token, uniqueEmail(), "owner");
    const revoke = await api.delete<ProblemBody>(`/v1/invitations/${invitation.id}`, { token: admin });
    expect(revoke.status).toBe(403);
    const adminInvite = await invite(admin, uniqueEmail(), "admin");
    expect(adminInvite.invitation).toMatchObject({ role: "admin", invitedByUserId: null });
  });

  it("an admin cannot replace (and so delete) a pending invitation to a role above theirs (403)", async () => {
    const fixture = await createTenant();
    const admin = await fixture.keyWithRole("admin");
    const attempt = (token: string) =>
      api.post<TokenPair>("/v1/invitations/accept", { headers: freshIp(), body: { token, password } });
    const email = uniqueEmail("next-owner");
    const ownerInvitation = await invite(fixture.token, email, "owner");

    const replace = await api.post<ProblemBody>("/v1/invitations", {
      token: admin,
      body: { email: email.toUpperCase(), role: "member" },
    });
    expect(replace.status).toBe(403);
    expect(replace.body).toMatchObject({ code: "FORBIDDEN" });
    expect(replace.body.detail).toContain("owner");
    expect(takeSentEmails(email)).toEqual([]);
    const listed = await api.get<ListInvitationsResponse>("/v1/invitations", { token: fixture.token });
    expect(listed.body.data.filter((i) => i.email === email)).toMatchObject([
      { id: ownerInvitation.invitation.id, role: "owner" },
    ]);

    // A pending invitation within the admin's reach is replaced as before.
    const adminEmail = uniqueEmail("next-admin");
    const first = await invite(fixture.token, adminEmail, "admin");
    const second = await invite(admin, adminEmail, "viewer");
    expect((await attempt(first.token)).status).toBe(401);
    expect((await attempt(second.token)).status).toBe(201);

    // The owner may replace the owner invitation; the old token then stops working.
    const byOwner = await invite(fixture.token, email, "admin");
    expect((await attempt(ownerInvitation.token)).status).toBe(401);
    expect((await attempt(byOwner.token)).status).toBe(201);
  });

  it("is walled per tenant: ids 404, lists are separate, a token creates its user in its own tenant", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const email = uniqueEmail();
    const { invitation, token } = await invite(a.token, email, "member");

    expect(
      (await api.delete<ProblemBody>(`/v1/invitations/${invitation.id}`, { token: b.token })).body,
    ).toMatchObject({ status: 404, code: "NOT_FOUND" });
    const listB = await api.get<ListInvitationsResponse>("/v1/invitations", { token: b.token });
    expect(listB.body.data).toEqual([]);

    const accepted = await api.post<TokenPair>("/v1/invitations/accept", {
      headers: freshIp(),
      body: { token, password },
    });
    expect(accepted.status).toBe(201);
    const usersA = await api.get<ListUsersResponse>("/v1/users", { token: a.token });
    expect(usersA.body.data.map((u) => u.email)).toContain(email);
    const usersB = await api.get<ListUsersResponse>("/v1/users", { token: b.token });
    expect(usersB.body.data.map((u) => u.email)).not.toContain(email);
    const loginB = await api.post("/v1/auth/login", {
      headers: freshIp(),
      body: { tenant: b.tenant.slug, email, password },
    });
    expect(loginB.status).toBe(401);
    // The new user's token is a tenant A credential: tenant B's rows stay out of reach.
    const bAgent = await api.post<{ id: string }>("/v1/agents", {
      token: b.token,
      body: { name: "b", model: "claude-sonnet-4-6" },
    });
    const cross = await api.get(`/v1/agents/${bAgent.body.id}`, { token: accepted.body.accessToken });
    expect(cross.status).toBe(404);
  });

  it("pages through pending invitations newest first", async () => {
    const owner = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const email = uniqueEmail(`p${i}`);
      const res = await api.post<CreateInvitationResponse>("/v1/invitations", {
        token: owner.token,
        body: { email },
      });
      expect(res.body.role).toBe("member");
      tokenFromOutbox(email, INVITATION_TOKEN);
      ids.push(res.body.id);
    }
    const first = await api.get<ListInvitationsResponse>("/v1/invitations?limit=2", { token: owner.token });
    expect(first.body.data.map((i) => i.id)).toEqual([ids[2], ids[1]]);
    const second = await api.get<ListInvitationsResponse>(
      `/v1/invitations?limit=2&cursor=${first.body.nextCursor}`,
      { token: owner.token },
    );
    expect(second.body.data.map((i) => i.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
  });
});
