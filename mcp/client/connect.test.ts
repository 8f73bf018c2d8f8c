import { describe, expect, it } from "vitest";
import {
  FAKE_MCP_API_KEY,
  FAKE_MCP_HUGE_BYTES,
  FAKE_MCP_TOKEN,
} from "../../scripts/local-stack/fake-mcp-server";
import { createTenant } from "../../test/harness/fixtures";
import { putSecret } from "../../workers/lib/secrets";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";
import { connectRemote, MAX_OUTPUT_BYTES, type RemoteConnection } from "./connect";
import type { InlineCredential } from "./credentials";
import { RemoteMcpError } from "./errors";
import { fakeScope, insertServer, testConfig } from "./test-fixtures";
import type { McpServerRow } from "./types";

/** Connects to `server` as its tenant, runs `fn`, closes. */
async function withConnection<T>(
  server: McpServerRow,
  fn: (conn: RemoteConnection) => Promise<T>,
  opts: { timeoutMs?: number } = {},
): Promise<T> {
  return withTenantDb(server.tenantId, async (db) => {
    const conn = await connectRemote({ db, config: testConfig() }, server, opts);
    try {
      return await fn(conn);
    } finally {
      await conn.close();
    }
  });
}

/** The RemoteMcpError `run` rejects with. */
async function failureOf(run: Promise<unknown>): Promise<RemoteMcpError> {
  const error = await run.then(
    () => {
      throw new Error("expected a RemoteMcpError");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RemoteMcpError);
  return error as RemoteMcpError;
}

async function server(
  path: string,
  values: Partial<McpServerRow> = {},
  inline?: InlineCredential,
): Promise<{ row: McpServerRow; fake: ReturnType<typeof fakeScope> }> {
  const { tenant } = await createTenant();
  const fake = fakeScope();
  const row = await insertServer(tenant.id, { url: `${fake.base}${path}`, ...values }, inline);
  return { row, fake };
}

describe("connectRemote", () => {
  it("initializes over Streamable HTTP and lists tools, resources and prompts, pings and calls", async () => {
    const { row } = await server("/mcp");
    await withConnection(row, async (conn) => {
      expect(conn.transport).toBe("streamable_http");
      expect(conn.serverInfo).toMatchObject({ name: "fake-mcp-full", version: "1.0.0" });
      expect(conn.serverInfo.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const tools = await conn.listTools();
      expect(tools.map((t) => t.name)).toEqual(["echo", "add", "slow", "huge", "fail"]);
      expect(tools[0]?.inputSchema).toMatchObject({
        type: "object",
        properties: { text: { type: "string" } },
      });
      expect(await conn.listResources()).toEqual([
        {
          uri: "fake://readme",
          name: "readme",
          description: "A small text resource.",
          mimeType: "text/plain",
        },
      ]);
      expect((await conn.listPrompts()).map((p) => p.name)).toEqual(["greet"]);
      expect(await conn.ping()).toBeGreaterThanOrEqual(0);
      const sum = await conn.callTool("add", { a: 2, b: 3 });
      expect(sum.structuredContent).toEqual({ sum: 5 });
    });
  });

  it("answers empty resources and prompts for a server without those capabilities", async () => {
    const { row } = await server("/bare/mcp");
    await withConnection(row, async (conn) => {
      expect((await conn.listTools()).map((t) => t.name)).toEqual(["echo"]);
      expect(await conn.listResources()).toEqual([]);
      expect(await conn.listPrompts()).toEqual([]);
    });
  });

  it("speaks the legacy HTTP+SSE transport when the server is registered as sse", async () => {
    const { row } = await server("/sse", { transport: "sse" });
    await withConnection(row, async (conn) => {
      expect(conn.transport).toBe("sse");
      const echo = await conn.callTool("echo", { text: "over sse" });
      expect(echo.content).toEqual([{ type: "text", text: "over sse" }]);
    });
  });

  it("falls back to SSE when Streamable HTTP answers initialize with a 4xx", async () => {
    const { row, fake } = await server("/sse", { transport: "streamable_http" });
    await withConnection(row, async (conn) => {
      expect(conn.transport).toBe("sse");
      expect((await conn.listTools()).length).toBe(5);
    });
    const requests = await fake.requests();
    expect(requests[0]).toMatchObject({ method: "POST", path: "/sse" });
    expect(requests[1]).toMatchObject({ method: "GET", path: "/sse" });
  });

  describe("authentication", () => {
    it("fails auth_failed without a credential, and does not fall back to SSE", async () => {
      const { row, fake } = await server("/auth/mcp");
      const error = await failureOf(withConnection(row, async () => undefined));
      expect(error.reason).toBe("auth_failed");
      expect((await fake.requests()).map((r) => r.method)).toEqual(["POST"]);
    });

    it("sends a named tenant secret as a bearer token, on every request", async () => {
      const { tenant } = await createTenant();
      await withTenantDb(tenant.id, (db) => putSecret(db, testConfig(), "FAKE_TOKEN", FAKE_MCP_TOKEN));
      const fake = fakeScope();
      const row = await insertServer(tenant.id, {
        url: `${fake.base}/auth/mcp`,
        authSecretName: "FAKE_TOKEN",
      });
      await withConnection(row, async (conn) => {
        expect((await conn.callTool("echo", { text: "hi" })).content).toEqual([{ type: "text", text: "hi" }]);
      });
      const requests = await fake.requests();
      expect(requests.length).toBeGreaterThan(1);
      for (const r of requests) expect(r.headers.authorization).toBe(`Bearer ${FAKE_MCP_TOKEN}`);
    });

    it.each([
      ["an inline token", { token: FAKE_MCP_TOKEN }, "authorization", `Bearer ${FAKE_MCP_TOKEN}`],
      ["inline headers", { headers: { "X-Api-Key": FAKE_MCP_API_KEY } }, "x-api-key", FAKE_MCP_API_KEY],
    ])("sends %s", async (_label, inline, header, value) => {
      const { row, fake } = await server("/auth/mcp", {}, inline);
      await withConnection(row, async (conn) => {
        await conn.ping();
      });
      for (const r of await fake.requests()) expect(r.headers[header]).toBe(value);
    });

    it("fails secret_missing when the named secret is gone, without calling the server", async () => {
      const { row, fake } = await server("/auth/mcp", { authSecretName: "NEVER_SET" });
      const error = await failureOf(withConnection(row, async () => undefined));
      expect(error.reason).toBe("secret_missing");
      expect(error.message).toContain("NEVER_SET");
      expect(await fake.count()).toBe(0);
    });
  });

  describe("failures", () => {
    it.each([
      ["HTML", "/garbage"],
      ["JSON that is not JSON-RPC", "/garbage-json"],
    ])("an answer in %s is invalid_response", async (_label, path) => {
      const { row } = await server(path);
      const error = await failureOf(withConnection(row, async () => undefined));
      expect(error.reason).toBe("invalid_response");
      expect(error.message).toMatch(/not (MCP|JSON-RPC)/);
    });

    it("an HTTP 500 at initialize is http_error (no fallback)", async () => {
      const { row, fake } = await server("/status/500");
      const error = await failureOf(withConnection(row, async () => undefined));
      expect(error.reason).toBe("http_error");
      expect(error.message).toContain("500");
      expect(await fake.count()).toBe(1);
    });

    it("a closed port is unreachable", async () => {
      const { tenant } = await createTenant();
      const row = await insertServer(tenant.id, { url: "http://127.0.0.1:9/mcp" });
      const error = await failureOf(withConnection(row, async () => undefined));
      expect(error.reason).toBe("unreachable");
    });

    it("a tool slower than the timeout fails timeout", async () => {
      const { row } = await server("/mcp");
      const started = Date.now();
      const error = await failureOf(
        withConnection(row, (conn) => conn.callTool("slow", { ms: 3_000 }), { timeoutMs: 300 }),
      );
      expect(error.reason).toBe("timeout");
      expect(Date.now() - started).toBeLessThan(2_500);
    });

    it("an answer over the cap is output_too_large, without reading it all", async () => {
      const { row } = await server("/mcp");
      const error = await failureOf(withConnection(row, (conn) => conn.callTool("huge", {})));
      expect(FAKE_MCP_HUGE_BYTES).toBeGreaterThan(MAX_OUTPUT_BYTES);
      expect(error.reason).toBe("output_too_large");
      expect(error.message).toContain(String(MAX_OUTPUT_BYTES));
    });

    it("an answer over the cap is output_too_large over legacy SSE too", async () => {
      const { row } = await server("/sse", { transport: "sse" });
      const error = await failureOf(withConnection(row, (conn) => conn.callTool("huge", {})));
      expect(error.reason).toBe("output_too_large");
    });

    it.each([
      ["link-local metadata (even where private hosts are allowed)", "http://169.254.169.254/mcp"],
      ["a non-http scheme", "file:///etc/passwd"],
    ])("refuses %s without sending anything", async (_label, url) => {
      const { tenant } = await createTenant();
      const row = await insertServer(tenant.id, { url });
      const error = await failureOf(withConnection(row, async () => undefined));
      expect(error.reason).toBe("url_refused");
    });
  });
});
