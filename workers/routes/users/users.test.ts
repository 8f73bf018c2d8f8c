import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLogs } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { skipUnlessServer } from "../../../test/harness/stack";
import type { Role } from "../../auth/roles";
import type { CreatedApiKeyResponse } from "../api-keys/schemas";
import type { TokenPair } from "../auth/schemas";
import { addUser, asTenant, freshIp, invite, uniqueEmail } from "../invitations/test-fixtures";
import type { ListUsersResponse } from "./list-users";
import type { UserResponse } from "./schemas";

const USER_FIELDS = ["createdAt", "email", "id", "lastLoginAt", "name", "role", "status", "updatedAt"];
const INVALID_INVITATION = "The invitation is invalid, expired or already used.";

/** An API key made by the holder of `token` (not the owner), so it is that user's delegation. */
async function createKey(token: string, role: Role): Promise<CreatedApiKeyResponse> {
  const res = await api.post<CreatedApiKeyResponse>("/v1/api-keys", {
    token,
    body: { name: `${role} key`, role },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function acceptInvitation(token: string) {
  return api.post<ProblemBody>("/v1/invitations/accept", {
    headers: freshIp(),
    body: { token, password: `pw-${crypto.randomUUID()}` },
  });
}

/** The `changes` of the one audit row `action` left on `userId`. */
async function auditChanges(tenantId: string, action: string, userId: string): Promise<unknown> {
  const rows = await asTenant(tenantId, (db) =>
    db
      .select({ changes: auditLogs.changes })
      .from(auditLogs)
      .where(
        and(
          eq(auditLogs.tenantId, db.tenantId),
          eq(auditLogs.action, action),
          eq(auditLogs.resourceId, userId),
        ),
      ),
  );
  expect(rows).toHaveLength(1);
  return rows[0]?.changes;
}

describe("users", () => {
  it("lists, filters and reads users, never with a password hash", async () => {
    const owner = await createTenant();
    const member = await addUser(owner.token, "member");
    const viewer = await addUser(owner.token, "viewer");

    const list = await api.get<ListUsersResponse>("/v1/users", { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.data.map((u) => u.id)).toEqual([viewer.id, member.id, owner.owner.id]);
    for (const user of list.body.data) expect(Object.keys(user).sort()).toEqual(USER_FIELDS);
    expect(JSON.stringify(list.body)).not.toMatch(/pbkdf2|password/i);

    const members = await api.get<ListUsersResponse>("/v1/users?role=member", { token: owner.token });
    expect(members.body.data.map((u) => u.id)).toEqual([member.id]);
    const byEmail = await api.get<ListUsersResponse>(`/v1/users?email=${viewer.email.toUpperCase()}`, {
      token: owner.token,
    });
    expect(byEmail.body.data.map((u) => u.id)).toEqual([viewer.id]);

    const page1 = await api.get<ListUsersResponse>("/v1/users?limit=2", { token: owner.token });
    expect(page1.body.data).toHaveLength(2);
    const page2 = await api.get<ListUsersResponse>(`/v1/users?limit=2&cursor=${page1.body.nextCursor}`, {
      token: owner.token,
    });
    expect(page2.body.data.map((u) => u.id)).toEqual([owner.owner.id]);
    expect(page2.body.nextCursor).toBeNull();

    const got = await api.get<UserResponse>(`/v1/users/${member.id}`, { token: owner.token });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: member.id, email: member.email, role: "member", status: "active" });
    expect(Object.keys(got.body).sort()).toEqual(USER_FIELDS);

    const disabled = await api.patch(`/v1/users/${member.id}`, {
      token: owner.token,
      body: { status: "disabled" },
    });
    expect(disabled.status).toBe(200);
    const byStatus = await api.get<ListUsersResponse>("/v1/users?status=disabled", { token: owner.token });
    expect(byStatus.body.data.map((u) => u.id)).toEqual([member.id]);
  });

  it.each([
    ["unknown field", { role: "member", passwordHash: "x" }, "(root)"],
    ["empty body", {}, "(root)"],
    ["unknown role", { role: "root" }, "role"],
    ["status invited", { status: "invited" }, "status"],
  ])("update rejects %s with a 400 naming the field", async (_label, body, path) => {
    const owner = await createTenant();
    const res = await api.patch<ProblemBody>(`/v1/users/${owner.owner.id}`, { token: owner.token, body });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED", instance: `/v1/users/${owner.owner.id}` });
    expect(res.body.errors?.some((e) => e.path === path)).toBe(true);
  });

  it("rejects a malformed id, filter or cursor with 400 and an unknown id with 404", async () => {
    const owner = await createTenant();
    for (const path of ["/v1/users/not-a-uuid", "/v1/users?role=root", "/v1/users?cursor=bm90LWEtdXVpZA"]) {
      const res = await api.get<ProblemBody>(path, { token: owner.token });
      expect(res.status, path).toBe(400);
      expect(res.body.code).toBe("VALIDATION_FAILED");
    }
    const missing = await api.get<ProblemBody>(`/v1/users/${crypto.randomUUID()}`, { token: owner.token });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("NOT_FOUND");
  });

  it("requires a credential; viewers and members read but cannot manage users", async () => {
    const fixture = await createTenant();
    const id = crypto.randomUUID();
    await expectAuthRequired({ method: "get", path: "/v1/users" });
    await expectAuthRequired({ method: "get", path: `/v1/users/${id}` });
    await expectAuthRequired({ method: "patch", path: `/v1/users/${id}`, body: { role: "viewer" } });
    await expectAuthRequired({ method: "delete", path: `/v1/users/${id}` });
    await expectRoles(fixture, { method: "get", path: "/v1/users" }, { allowed: ["viewer"], denied: [] });
    await expectRoles(
      fixture,
      { method: "patch", path: `/v1/users/${id}`, body: { status: "disabled" } },
      { allowed: ["admin", "owner"], denied: ["member", "viewer"] },
    );
    await expectRoles(
      fixture,
      { method: "delete", path: `/v1/users/${id}` },
      { allowed: ["admin", "owner"], denied: ["member", "viewer"] },
    );
  });

  it("an admin cannot grant owner nor touch an owner, but manages lower roles", async () => {
    const fixture = await createTenant();
    const member = await addUser(fixture.token, "member");
    const admin = await addUser(fixture.token, "admin");
    const adminToken = admin.tokens.accessToken;

    const grant = await api.patch<ProblemBody>(`/v1/users/${member.id}`, {
      token: adminToken,
      body: { role: "owner" },
    });
    expect(grant.status).toBe(403);
    expect(grant.body.code).toBe("FORBIDDEN");
    for (const attempt of [
      api.patch<ProblemBody>(`/v1/users/${fixture.owner.id}`, {
        token: adminToken,
        body: { role: "member" },
      }),
      api.patch<ProblemBody>(`/v1/users/${fixture.owner.id}`, {
        token: adminToken,
        body: { status: "disabled" },
      }),
      api.delete<ProblemBody>(`/v1/users/${fixture.owner.id}`, { token: adminToken }),
    ]) {
      const res = await attempt;
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("FORBIDDEN");
    }
    const promoted = await api.patch<UserResponse>(`/v1/users/${member.id}`, {
      token: adminToken,
      body: { role: "admin" },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe("admin");
    const ownerStill = await api.get<UserResponse>(`/v1/users/${fixture.owner.id}`, { token: fixture.token });
    expect(ownerStill.body).toMatchObject({ role: "owner", status: "active" });
  });

  it("never leaves a tenant without an active owner (409)", async () => {
    const fixture = await createTenant();
    const self = `/v1/users/${fixture.owner.id}`;
    for (const attempt of [
      api.patch<ProblemBody>(self, { token: fixture.token, body: { role: "admin" } }),
      api.patch<ProblemBody>(self, { token: fixture.token, body: { status: "disabled" } }),
      api.delete<ProblemBody>(self, { token: fixture.token }),
    ]) {
      const res = await attempt;
      expect(res.status).toBe(409);
      expect(res.body.code).toBe("CONFLICT");
    }
  });

  it("two owners demoting each other at once: row locks let exactly one win", async (ctx) => {
    skipUnlessServer(ctx, "a race between two transactions");
    const fixture = await createTenant();
    const self = `/v1/users/${fixture.owner.id}`;
    const second = await addUser(fixture.token, "owner");
    const [a, b] = await Promise.all([
      api.patch(self, { token: second.tokens.accessToken, body: { role: "admin" } }),
      api.patch(`/v1/users/${second.id}`, { token: fixture.token, body: { role: "admin" } }),
    ]);
    // Exactly one wins. The loser gets 409 (it waited on the winner's row lock and found itself
    // the last owner to demote) or 403 (the winner's demotion committed before the loser's
    // request began, and every request re-reads the caller's role).
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const owners = await api.get<ListUsersResponse>("/v1/users?role=owner&status=active", {
      token: fixture.token,
    });
    expect(owners.body.data).toHaveLength(1);
  });

  it("disabling a user stops sign-in and refresh; enabling lets them sign in again", async () => {
    const fixture = await createTenant();
    const member = await addUser(fixture.token, "member");
    const login = () =>
      api.post<TokenPair>("/v1/auth/login", {
        headers: freshIp(),
        body: { tenant: fixture.tenant.slug, email: member.email, password: member.password },
      });
    const disabled = await api.patch<UserResponse>(`/v1/users/${member.id}`, {
      token: fixture.token,
      body: { status: "disabled" },
    });
    expect(disabled.body.status).toBe("disabled");

    const refresh = await api.post<ProblemBody>("/v1/auth/refresh", {
      headers: freshIp(),
      body: { refreshToken: member.tokens.refreshToken },
    });
    expect(refresh.status).toBe(401);
    expect(refresh.body.code).toBe("UNAUTHENTICATED");
    expect((await login()).status).toBe(401);

    const enabled = await api.patch<UserResponse>(`/v1/users/${member.id}`, {
      token: fixture.token,
      body: { status: "active" },
    });
    expect(enabled.body.status).toBe("active");
    const again = await login();
    expect(again.status).toBe(200);
    // Re-enabling does not bring the revoked session back.
    const stale = await api.post("/v1/auth/refresh", {
      headers: freshIp(),
      body: { refreshToken: member.tokens.refreshToken },
    });
    expect(stale.status).toBe(401);
  });

  it("deletes a user: gone from lists, cannot sign in or refresh, may be invited again", async () => {
    const fixture = await createTenant();
    const member = await addUser(fixture.token, "member");
    const deleted = await api.delete(`/v1/users/${member.id}`, { token: fixture.token });
    expect(deleted.status).toBe(204);
    expect((await api.get(`/v1/users/${member.id}`, { token: fixture.token })).status).toBe(404);
    expect((await api.delete(`/v1/users/${member.id}`, { token: fixture.token })).status).toBe(404);
    const list = await api.get<ListUsersResponse>("/v1/users", { token: fixture.token });
    expect(list.body.data.map((u) => u.id)).toEqual([fixture.owner.id]);
    const login = await api.post("/v1/auth/login", {
      headers: freshIp(),
      body: { tenant: fixture.tenant.slug, email: member.email, password: member.password },
    });
    expect(login.status).toBe(401);
    const refresh = await api.post("/v1/auth/refresh", {
      headers: freshIp(),
      body: { refreshToken: member.tokens.refreshToken },
    });
    expect(refresh.status).toBe(401);
    const reinvite = await api.post("/v1/invitations", {
      token: fixture.token,
      body: { email: member.email, role: "viewer" },
    });
    expect(reinvite.status).toBe(201);
  });

  it("is invisible across tenants: 404 on every route, lists never leak", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const member = await addUser(a.token, "member");
    for (const id of [member.id, a.owner.id]) {
      const attempts = [
        api.get(`/v1/users/${id}`, { token: b.token }),
        api.patch(`/v1/users/${id}`, { token: b.token, body: { status: "disabled" } }),
        api.delete(`/v1/users/${id}`, { token: b.token }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ code: "NOT_FOUND" });
      }
    }
    const listB = await api.get<ListUsersResponse>("/v1/users", { token: b.token });
    expect(listB.body.data.map((u) => u.id)).toEqual([b.owner.id]);
    const filtered = await api.get<ListUsersResponse>(`/v1/users?email=${member.email}`, { token: b.token });
    expect(filtered.body.data).toEqual([]);
    const still = await api.get<UserResponse>(`/v1/users/${member.id}`, { token: a.token });
    expect(still.body.status).toBe("active");
  });

  it.each([
    ["deleting", "user.delete"],
    ["disabling", "user.update"],
  ] as const)(
    "%s a user revokes the API keys they made and deletes the invitations they sent",
    async (how, action) => {
      const fixture = await createTenant();
      const admin = await addUser(fixture.token, "admin");
      const key = await createKey(admin.tokens.accessToken, "admin");
      const sent = await invite(admin.tokens.accessToken, uniqueEmail("invitee"), "admin");
      expect((await api.get("/v1/audit-logs", { token: key.key })).status).toBe(200);
      // The owner's own key and invitation are not the admin's to lose.
      const ownersKey = await fixture.keyWithRole("admin");
      const ownersInvitation = await invite(fixture.token, uniqueEmail("owners"), "admin");

      const res =
        how === "deleting"
          ? await api.delete(`/v1/users/${admin.id}`, { token: fixture.token })
          : await api.patch(`/v1/users/${admin.id}`, { token: fixture.token, body: { status: "disabled" } });
      expect(res.status).toBeLessThan(300);

      const read = await api.get<ProblemBody>("/v1/audit-logs", { token: key.key });
      expect(read.status).toBe(401);
      expect(read.body.code).toBe("UNAUTHENTICATED");
      const inviteWithKey = await api.post("/v1/invitations", {
        token: key.key,
        body: { email: uniqueEmail("via-key"), role: "admin" },
      });
      expect(inviteWithKey.status).toBe(401);
      const accepted = await acceptInvitation(sent.token);
      expect(accepted.status).toBe(401);
      expect(accepted.body).toMatchObject({ code: "UNAUTHENTICATED", detail: INVALID_INVITATION });

      expect((await api.get("/v1/audit-logs", { token: ownersKey })).status).toBe(200);
      expect((await acceptInvitation(ownersInvitation.token)).status).toBe(201);
      expect(await auditChanges(fixture.tenant.id, action, admin.id)).toMatchObject({
        revokedApiKeys: [key.id],
        deletedInvitations: [sent.invitation.id],
      });
    },
  );

  it("demoting a user revokes only their keys and invitations above the new role", async () => {
    const fixture = await createTenant();
    const admin = await addUser(fixture.token, "admin");
    const adminKey = await createKey(admin.tokens.accessToken, "admin");
    const memberKey = await createKey(admin.tokens.accessToken, "member");
    const adminInvitation = await invite(admin.tokens.accessToken, uniqueEmail("as-admin"), "admin");
    const memberInvitation = await invite(admin.tokens.accessToken, uniqueEmail("as-member"), "member");

    const demoted = await api.patch<UserResponse>(`/v1/users/${admin.id}`, {
      token: fixture.token,
      body: { role: "member" },
    });
    expect(demoted.status).toBe(200);
    expect(demoted.body.role).toBe("member");

    expect((await api.get("/v1/audit-logs", { token: adminKey.key })).status).toBe(401);
    expect((await api.get("/v1/users", { token: adminKey.key })).status).toBe(401);
    expect((await api.get("/v1/agents", { token: memberKey.key })).status).toBe(200);
    expect((await acceptInvitation(adminInvitation.token)).body).toMatchObject({
      status: 401,
      detail: INVALID_INVITATION,
    });
    expect((await acceptInvitation(memberInvitation.token)).status).toBe(201);
    expect(await auditChanges(fixture.tenant.id, "user.update", admin.id)).toEqual({
      role: "member",
      revokedApiKeys: [adminKey.id],
      deletedInvitations: [adminInvitation.invitation.id],
    });
  });
});
