import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { signingKeys } from "./jwt";

const config = env as unknown as { AUTH_JWT_SECRETS: string };

function b64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Claims of a valid access token for the fixture's owner, to be bent one way at a time. */
async function claimsOf(fixture: Awaited<ReturnType<typeof createTenant>>) {
  const [, payload] = fixture.token.split(".");
  return JSON.parse(atob((payload ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
}

async function sign(
  claims: Record<string, unknown>,
  opts: { kid?: string; secret?: Uint8Array; alg?: string } = {},
): Promise<string> {
  const [current] = signingKeys(config);
  if (!current) throw new Error("no key");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? "HS256", kid: opts.kid ?? current.kid, typ: "JWT" })
    .sign(opts.secret ?? current.key);
}

async function expect401(token: string) {
  const res = await api.get<ProblemBody>("/v1/agents", { token });
  expect(res.status).toBe(401);
  expect(res.body.code).toBe("UNAUTHENTICATED");
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
}

describe("access token verification", () => {
  it("accepts the token login issued, and a re-signed copy of its claims", async () => {
    const fixture = await createTenant();
    expect((await api.get("/v1/agents", { token: fixture.token })).status).toBe(200);
    expect((await api.get("/v1/agents", { token: await sign(await claimsOf(fixture)) })).status).toBe(200);
  });

  it("refuses alg none", async () => {
    const fixture = await createTenant();
    const claims = await claimsOf(fixture);
    await expect401(`${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.`);
    await expect401(
      `${b64url({ alg: "none", typ: "JWT", kid: signingKeys(config)[0]?.kid })}.${b64url(claims)}.`,
    );
  });

  it("refuses HS/RS confusion: an RS256 token, and HS256 signed with a public key", async () => {
    const fixture = await createTenant();
    const claims = await claimsOf(fixture);
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const rs = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: signingKeys(config)[0]?.kid })
      .sign(privateKey);
    await expect401(rs);
    const publicJwk = new TextEncoder().encode(JSON.stringify(await exportJWK(publicKey)));
    await expect401(await sign(claims, { secret: publicJwk }));
    await expect401(await sign(claims, { alg: "HS512", secret: signingKeys(config)[0]?.key }));
  });

  it.each([
    ["wrong audience", { aud: "someone-else" }],
    ["wrong issuer", { iss: "evil" }],
    ["expired", { exp: Math.floor(Date.now() / 1000) - 120 }],
    ["not yet valid", { nbf: Math.floor(Date.now() / 1000) + 600 }],
    ["missing tenant", { tid: undefined }],
    ["unknown role", { role: "superuser" }],
    ["tenant not a uuid", { tid: "acme" }],
  ])("refuses a token with %s", async (_label, change) => {
    const fixture = await createTenant();
    const claims = { ...(await claimsOf(fixture)), ...change };
    await expect401(await sign(claims));
  });

  it("allows small clock skew on exp and nbf", async () => {
    const fixture = await createTenant();
    const now = Math.floor(Date.now() / 1000);
    const claims = { ...(await claimsOf(fixture)), exp: now - 5, nbf: now + 5 };
    expect((await api.get("/v1/agents", { token: await sign(claims) })).status).toBe(200);
  });

  it("refuses a tampered payload, an unknown kid, and a foreign secret", async () => {
    const fixture = await createTenant();
    const other = await createTenant();
    const [header, , signature] = fixture.token.split(".");
    const claims = { ...(await claimsOf(fixture)), tid: other.tenant.id };
    await expect401(`${header}.${b64url(claims)}.${signature}`);
    await expect401(await sign(await claimsOf(fixture), { kid: "retired-key" }));
    await expect401(
      await sign(await claimsOf(fixture), { secret: new TextEncoder().encode("x".repeat(48)) }),
    );
  });

  it("verifies with every configured key so keys rotate by kid", async () => {
    const fixture = await createTenant();
    const keys = signingKeys({ AUTH_JWT_SECRETS: `next:${"n".repeat(40)},${config.AUTH_JWT_SECRETS}` });
    expect(keys.map((k) => k.kid)).toEqual(["next", ...signingKeys(config).map((k) => k.kid)]);
    // A token signed by the old (second) key still verifies where both are configured.
    const token = await sign(await claimsOf(fixture), { kid: keys[1]?.kid, secret: keys[1]?.key });
    expect((await api.get("/v1/agents", { token })).status).toBe(200);
  });

  it("stops working at once after logout, and so does its refresh token", async () => {
    const fixture = await createTenant();
    expect((await api.get("/v1/agents", { token: fixture.token })).status).toBe(200);
    expect((await api.post("/v1/auth/logout", { token: fixture.token })).status).toBe(204);
    await expect401(fixture.token);
    const refreshed = await api.post<ProblemBody>("/v1/auth/refresh", {
      body: { refreshToken: fixture.tokens.refreshToken },
    });
    expect(refreshed.status).toBe(401);
  });

  it("rotates refresh tokens: the new pair works, the old refresh token does not", async () => {
    const fixture = await createTenant();
    const first = await api.post<{ accessToken: string; refreshToken: string }>("/v1/auth/refresh", {
      body: { refreshToken: fixture.tokens.refreshToken },
    });
    expect(first.status).toBe(200);
    expect((await api.get("/v1/agents", { token: first.body.accessToken })).status).toBe(200);
    const replay = await api.post("/v1/auth/refresh", {
      body: { refreshToken: fixture.tokens.refreshToken },
    });
    expect(replay.status).toBe(401);
  });

  it("answers a wrong password, an unknown email and an unknown tenant the same way", async () => {
    const fixture = await createTenant();
    const attempts = [
      { tenant: fixture.tenant.slug, email: fixture.owner.email, password: "wrong-password-123" },
      { tenant: fixture.tenant.slug, email: "nobody@example.com", password: fixture.owner.password },
      { tenant: "no-such-tenant", email: fixture.owner.email, password: fixture.owner.password },
    ];
    const details = new Set<string>();
    for (const body of attempts) {
      const res = await api.post<ProblemBody>("/v1/auth/login", { body });
      expect(res.status).toBe(401);
      details.add(res.body.detail);
    }
    expect(details.size).toBe(1);
  });
});
