import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import worker from "../../workers/index";
import { fetchWithBindings } from "../harness/api";
import { createTenant } from "../harness/fixtures";

const clients: Awaited<ReturnType<typeof connect>>[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end()));
});

/**
 * Connections of the app role tagged with `tag` that a client still holds. The local relay, like
 * a production pooler, keeps a backend whose client left and resets it with DISCARD ALL: such a
 * backend is free, not a leak.
 */
async function openConnections(tag: string): Promise<number> {
  // As the app role itself, which sees its own backends' state and last query.
  const client = await connect(env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string });
  clients.push(client);
  const { rows } = await client.query(
    "select count(*)::int as n from pg_stat_activity where application_name = $1 and query <> 'DISCARD ALL'",
    [tag],
  );
  return rows[0]?.n ?? -1;
}

describe("each request's connection", () => {
  it("is closed after the response, whatever the body looked like", async () => {
    const fixture = await createTenant();
    const tag = `conn-test-${crypto.randomUUID().slice(0, 8)}`;
    const base = env as unknown as { DATABASE_URL: string };
    const url = new URL(base.DATABASE_URL);
    url.searchParams.set("application_name", tag);
    const tagged = { ...env, DATABASE_URL: url.toString() } as typeof env;
    const login = JSON.stringify({
      tenant: fixture.tenant.slug,
      email: fixture.owner.email,
      password: "wrong-password-1",
    });

    const requests = [
      // A chunked body (no Content-Length) is buffered by the body limit, which replaces the Request.
      () =>
        new Request("https://api.meridian.test/v1/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json", "cf-connecting-ip": "192.0.2.10" },
          body: new Blob([login]).stream(),
          duplex: "half",
        } as RequestInit),
      () =>
        new Request("https://api.meridian.test/v1/agents", {
          headers: { authorization: `Bearer ${fixture.token}` },
        }),
      () => new Request("https://api.meridian.test/health/ready"),
    ];
    for (const make of requests) {
      for (let i = 0; i < 3; i++) {
        const ctx = createExecutionContext();
        const res = await worker.fetch(make() as Request<unknown, IncomingRequestCfProperties>, tagged, ctx);
        await res.arrayBuffer();
        await waitOnExecutionContext(ctx);
      }
    }
    await expect.poll(() => openConnections(tag), { timeout: 5_000, interval: 100 }).toBe(0);
  });
});

describe("the local Neon relay", () => {
  it("frees a PostgreSQL backend whose client vanished in the middle of a large result", async () => {
    const tag = `relay-test-${crypto.randomUUID().slice(0, 8)}`;
    const url = new URL((env as unknown as { DATABASE_URL: string }).DATABASE_URL);
    url.searchParams.set("application_name", tag);
    const client = await connect({
      DATABASE_URL: url.toString(),
      NEON_WS_PROXY: (env as unknown as { NEON_WS_PROXY?: string }).NEON_WS_PROXY,
    });
    // Far more than the relay buffers (20 GB: no machine reads it all before the cut below), so
    // PostgreSQL is left writing to the relay when the client goes.
    const result = client
      .query("select repeat('x', 1000) from generate_series(1, 20000000)")
      .catch(() => "lost");
    await expect.poll(() => openConnections(tag), { timeout: 5_000, interval: 50 }).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The worker going away mid-query: its WebSocket drops with nobody saying goodbye.
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await result).toBe("lost");
    await expect.poll(() => openConnections(tag), { timeout: 5_000, interval: 100 }).toBe(0);
  });
});

describe("a database that cannot be reached", () => {
  it("is a 503 UNAVAILABLE with Retry-After for sessions and API keys, not a 500", async () => {
    const fixture = await createTenant();
    const key = await fixture.keyWithRole("admin");
    // Nothing listens on port 9: the relay's address refuses every connection.
    for (const token of [fixture.token, key]) {
      const res = await fetchWithBindings(
        "/v1/agents",
        { headers: { authorization: `Bearer ${token}` } },
        { NEON_WS_PROXY: "127.0.0.1:9" },
      );
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("2");
      expect(await res.json()).toMatchObject({ code: "UNAVAILABLE", status: 503 });
    }
  });
});
