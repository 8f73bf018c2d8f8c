import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { connect } from "../../../db/client";
import { auditLogs, passwordResets } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import worker from "../../index";
import { type SentEmail, takeSentEmails } from "../../lib/email";
import { addUser, asTenant, freshIp, RESET_TOKEN, uniqueEmail } from "../invitations/test-fixtures";
import type { TokenPair } from "./schemas";

const NEW_PASSWORD = "a brand new long passphrase";
const INVALID = "The reset token is invalid, expired or already used.";

/**
 * Waits until `count` messages to `to` are in the dev outbox and takes them: the reset email is
 * sent after the 202, in the request's background work, so it may arrive a little later.
 */
async function awaitMail(to: string, count = 1): Promise<SentEmail[]> {
  const mails: SentEmail[] = [];
  await expect
    .poll(
      () => {
        mails.push(...takeSentEmails(to));
        return mails.length;
      },
      { timeout: 5_000 },
    )
    .toBe(count);
  return mails;
}

/** Waits for the one reset email to `to` and extracts its token. */
async function resetTokenFromOutbox(to: string): Promise<string> {
  const [mail] = await awaitMail(to);
  const token = mail?.text.match(RESET_TOKEN)?.[0];
  expect(token, "token in the mail").toBeDefined();
  return token as string;
}

function login(tenant: string, email: string, password: string) {
  return api.post<TokenPair>("/v1/auth/login", { headers: freshIp(), body: { tenant, email, password } });
}

describe("POST /v1/auth/password", () => {
  it("changes the password and ends every other session, keeping this one", async () => {
    const fixture = await createTenant();
    const other = await login(fixture.tenant.slug, fixture.owner.email, fixture.owner.password);
    expect(other.status).toBe(200);

    const res = await api.post("/v1/auth/password", {
      token: fixture.token,
      body: { currentPassword: fixture.owner.password, newPassword: NEW_PASSWORD },
    });
    expect(res.status).toBe(204);

    const otherRefresh = await api.post("/v1/auth/refresh", {
      headers: freshIp(),
      body: { refreshToken: other.body.refreshToken },
    });
    expect(otherRefresh.status).toBe(401);
    const ownRefresh = await api.post("/v1/auth/refresh", {
      headers: freshIp(),
      body: { refreshToken: fixture.tokens.refreshToken },
    });
    expect(ownRefresh.status).toBe(200);
    expect((await api.get("/v1/agents", { token: fixture.token })).status).toBe(200);

    expect((await login(fixture.tenant.slug, fixture.owner.email, fixture.owner.password)).status).toBe(401);
    expect((await login(fixture.tenant.slug, fixture.owner.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("answers a wrong current password with 403 and changes nothing", async () => {
    const fixture = await createTenant();
    const res = await api.post<ProblemBody>("/v1/auth/password", {
      token: fixture.token,
      body: { currentPassword: "not my password", newPassword: NEW_PASSWORD },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "FORBIDDEN", errors: [{ path: "currentPassword" }] });
    expect((await login(fixture.tenant.slug, fixture.owner.email, fixture.owner.password)).status).toBe(200);
  });

  it("is for users only: 401 without a credential, 403 for an API key", async () => {
    const fixture = await createTenant();
    const body = { currentPassword: "x", newPassword: NEW_PASSWORD };
    await expectAuthRequired({ method: "post", path: "/v1/auth/password", body });
    const key = await fixture.keyWithRole("owner");
    const res = await api.post<ProblemBody>("/v1/auth/password", { token: key, body });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("FORBIDDEN");
  });

  it.each([
    ["short new password", { currentPassword: "x", newPassword: "short" }, "newPassword"],
    ["unknown field", { currentPassword: "x", newPassword: NEW_PASSWORD, userId: "me" }, "(root)"],
    ["missing current password", { newPassword: NEW_PASSWORD }, "currentPassword"],
  ])("rejects %s with a 400 naming the field", async (_label, body, path) => {
    const fixture = await createTenant();
    const res = await api.post<ProblemBody>("/v1/auth/password", { token: fixture.token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.some((e) => e.path === path)).toBe(true);
  });
});

describe("password reset", () => {
  it("request -> email -> confirm sets the password, ends every session, and works once", async () => {
    const fixture = await createTenant();
    const member = await addUser(fixture.token, "member");
    const requested = await api.post("/v1/auth/password-reset", {
      headers: freshIp(),
      body: { tenant: fixture.tenant.slug, email: member.email.toUpperCase() },
    });
    expect(requested.status).toBe(202);
    expect(requested.body).toBe("");
    const token = await resetTokenFromOutbox(member.email);
    // Written by the background work, on its own connection, with the same actor as before.
    const requests = await asTenant(fixture.tenant.id, (db) =>
      db
        .select()
        .from(auditLogs)
        .where(and(eq(auditLogs.tenantId, db.tenantId), eq(auditLogs.action, "auth.password_reset_request"))),
    );
    expect(requests).toMatchObject([
      { actorType: "system", actorId: null, resourceType: "user", resourceId: member.id },
    ]);
    expect(requests[0]?.requestId).toBe(requested.headers.get("x-request-id"));

    const confirmed = await api.post("/v1/auth/password-reset/confirm", {
      headers: freshIp(),
      body: { token, newPassword: NEW_PASSWORD },
    });
    expect(confirmed.status).toBe(204);

    const refresh = await api.post("/v1/auth/refresh", {
      headers: freshIp(),
      body: { refreshToken: member.tokens.refreshToken },
    });
    expect(refresh.status).toBe(401);
    expect((await login(fixture.tenant.slug, member.email, member.password)).status).toBe(401);
    const signedIn = await login(fixture.tenant.slug, member.email, NEW_PASSWORD);
    expect(signedIn.status).toBe(200);

    const reused = await api.post<ProblemBody>("/v1/auth/password-reset/confirm", {
      headers: freshIp(),
      body: { token, newPassword: "yet another long passphrase" },
    });
    expect(reused.status).toBe(401);
    expect(reused.body).toMatchObject({ code: "UNAUTHENTICATED", detail: INVALID });
    expect((await login(fixture.tenant.slug, member.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("sends the email in the request's background work, on a connection it closes", async () => {
    const fixture = await createTenant();
    // Tagged, so PostgreSQL can tell us whether this request's connections were closed.
    const tag = `reset-test-${crypto.randomUUID().slice(0, 8)}`;
    const url = new URL((env as unknown as { DATABASE_URL: string }).DATABASE_URL);
    url.searchParams.set("application_name", tag);
    const tagged = { ...env, DATABASE_URL: url.toString() } as typeof env;
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("https://api.meridian.test/v1/auth/password-reset", {
        method: "POST",
        headers: { "content-type": "application/json", ...freshIp() },
        body: JSON.stringify({ tenant: fixture.tenant.slug, email: fixture.owner.email }),
      }) as Request<unknown, IncomingRequestCfProperties>,
      tagged,
      ctx,
    );
    expect(res.status).toBe(202);
    await waitOnExecutionContext(ctx);
    expect(takeSentEmails(fixture.owner.email)).toHaveLength(1);

    // As the app role itself, which sees its own backends' state and last query.
    const observer = await connect(env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string });
    try {
      const open = async () =>
        // Held by a client: the relay's pool keeps a freed backend, reset with DISCARD ALL.
        (
          await observer.query(
            "select count(*)::int as n from pg_stat_activity where application_name = $1 and query <> 'DISCARD ALL'",
            [tag],
          )
        ).rows[0]?.n;
      await expect.poll(open, { timeout: 5_000, interval: 100 }).toBe(0);
    } finally {
      await observer.end();
    }
  });

  it("answers 202 alike for unknown tenants, unknown and disabled accounts, and sends nothing", async () => {
    const fixture = await createTenant();
    const disabled = await addUser(fixture.token, "viewer");
    await api.patch(`/v1/users/${disabled.id}`, { token: fixture.token, body: { status: "disabled" } });
    const ghost = uniqueEmail("ghost");
    const cases = [
      { tenant: fixture.tenant.slug, email: ghost },
      { tenant: `no-such-${crypto.randomUUID().slice(0, 8)}`, email: fixture.owner.email },
      { tenant: fixture.tenant.slug, email: disabled.email },
    ];
    const known = await api.post("/v1/auth/password-reset", {
      headers: freshIp(),
      body: { tenant: fixture.tenant.slug, email: fixture.owner.email },
    });
    for (const body of cases) {
      const res = await api.post("/v1/auth/password-reset", { headers: freshIp(), body });
      expect(res.status, JSON.stringify(body)).toBe(known.status);
      expect(res.body).toEqual(known.body);
      expect(res.headers.get("content-type")).toEqual(known.headers.get("content-type"));
    }
    // Only the real, active account got mail (once: the second case named another tenant). By the
    // time it arrives, the background work of every request above has had its chance to run.
    expect(await awaitMail(fixture.owner.email)).toHaveLength(1);
    expect(takeSentEmails(ghost)).toEqual([]);
    expect(takeSentEmails(disabled.email)).toEqual([]);
    expect(takeSentEmails(fixture.owner.email)).toEqual([]);
  });

  it("a newer reset link, a password change or expiry makes older links stop working", async () => {
    const fixture = await createTenant();
    const request = () =>
      api.post("/v1/auth/password-reset", {
        headers: freshIp(),
        body: { tenant: fixture.tenant.slug, email: fixture.owner.email },
      });
    const confirm = (token: string) =>
      api.post<ProblemBody>("/v1/auth/password-reset/confirm", {
        headers: freshIp(),
        body: { token, newPassword: NEW_PASSWORD },
      });

    await request();
    const older = await resetTokenFromOutbox(fixture.owner.email);
    await request();
    const newer = await resetTokenFromOutbox(fixture.owner.email);
    expect((await confirm(older)).body).toMatchObject({ status: 401, detail: INVALID });

    const changed = await api.post("/v1/auth/password", {
      token: fixture.token,
      body: { currentPassword: fixture.owner.password, newPassword: "changed by the owner themselves" },
    });
    expect(changed.status).toBe(204);
    expect((await confirm(newer)).status).toBe(401);

    await request();
    const expiring = await resetTokenFromOutbox(fixture.owner.email);
    await asTenant(fixture.tenant.id, (db) =>
      db
        .update(passwordResets)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(passwordResets.tenantId, db.tenantId)),
    );
    expect((await confirm(expiring)).body).toMatchObject({ status: 401, detail: INVALID });
    expect((await confirm(`mrp_${"A".repeat(43)}`)).body).toMatchObject({ status: 401, detail: INVALID });
  });

  it("a reset token cannot be used as an invitation, nor the other way round", async () => {
    const fixture = await createTenant();
    await api.post("/v1/auth/password-reset", {
      headers: freshIp(),
      body: { tenant: fixture.tenant.slug, email: fixture.owner.email },
    });
    const token = await resetTokenFromOutbox(fixture.owner.email);
    const asInvite = await api.post("/v1/invitations/accept", {
      headers: freshIp(),
      body: { token, password: NEW_PASSWORD },
    });
    expect(asInvite.status).toBe(401);
    // Still valid as what it is.
    const confirmed = await api.post("/v1/auth/password-reset/confirm", {
      headers: freshIp(),
      body: { token, newPassword: NEW_PASSWORD },
    });
    expect(confirmed.status).toBe(204);
  });

  it.each([
    ["/v1/auth/password-reset", { tenant: "Not A Slug!", email: "a@example.com" }, "tenant"],
    ["/v1/auth/password-reset", { tenant: "acme", email: "a@example.com", extra: 1 }, "(root)"],
    ["/v1/auth/password-reset", { tenant: "acme" }, "email"],
    ["/v1/auth/password-reset/confirm", { token: "mrp_x", newPassword: "short" }, "newPassword"],
    ["/v1/auth/password-reset/confirm", { token: "mrp_x", newPassword: NEW_PASSWORD, email: "x" }, "(root)"],
  ])("%s rejects a bad body with a 400 naming %j", async (path, body, field) => {
    const res = await api.post<ProblemBody>(path, { headers: freshIp(), body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED", instance: path });
    expect(res.body.errors?.some((e) => e.path === field)).toBe(true);
  });

  it("limits reset requests per account: the 11th in 15 minutes is 429, known account or not", async () => {
    const fixture = await createTenant();
    for (const email of [fixture.owner.email, uniqueEmail("ghost")]) {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const res = await api.post("/v1/auth/password-reset", {
          body: { tenant: fixture.tenant.slug, email },
          // A fresh IP each time, so only the per-account limit can refuse.
          headers: { "cf-connecting-ip": `203.0.113.${i + 1}` },
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([...Array(10).fill(202), 429]);
      // One mail per accepted request to the real account, none for the 429 nor for the ghost.
      await awaitMail(email, email === fixture.owner.email ? 10 : 0);
    }
  });
});
