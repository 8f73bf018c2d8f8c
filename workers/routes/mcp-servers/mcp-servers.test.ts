import { and, eq, like } from "drizzle-orm";
import { describe, expect, it, test } from "vitest";
import { tenantSecrets } from "../../../db/schema";
import { MANAGED_SECRET_PREFIX } from "../../../mcp/client/credentials";
import { fakeScope, testConfig } from "../../../mcp/client/test-fixtures";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { getSecretValue } from "../../lib/secrets";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ListSecretsResponse } from "../secrets/list-secrets";
import type { ListMcpServersResponse } from "./list-mcp-servers";
import type { McpServerResponse } from "./schemas";

let counter = 0;
const uniqueName = () => `srv-${++counter}-${crypto.randomUUID().slice(0, 6)}`;

async function register(token: string, body: Record<string, unknown> = {}) {
  const res = await api.post<McpServerResponse>("/v1/mcp/servers", {
    token,
    body: { name: uniqueName(), url: `${fakeScope().base}/mcp`, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Every managed (inline-credential) secret of the tenant, by name. */
function managedSecrets(tenantId: string) {
  return withTenantDb(tenantId, (db) =>
    db
      .select({ name: tenantSecrets.name })
      .from(tenantSecrets)
      .where(
        and(eq(tenantSecrets.tenantId, tenantId), like(tenantSecrets.name, `${MANAGED_SECRET_PREFIX}%`)),
      ),
  );
}

describe("mcp servers", () => {
  it("registers, lists, gets, updates and deletes a server, auditing each change", async () => {
    const { token } = await createTenant();
    const url = `${fakeScope().base}/mcp`;
    const created = await api.post<McpServerResponse>("/v1/mcp/servers", {
      token,
      body: { name: "github", description: "Issues and PRs.", url },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/v1/mcp/servers/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: "github",
      description: "Issues and PRs.",
      url,
      transport: "streamable_http",
      status: "active",
      hasAuth: false,
      authSecretName: null,
      health: { status: "unknown", latencyMs: null, lastError: null, checkedAt: null },
      toolCount: null,
      discoveredAt: null,
    });
    const id = created.body.id;

    const list = await api.get<ListMcpServersResponse>("/v1/mcp/servers", { token });
    expect(list.body.data).toEqual([created.body]);
    expect((await api.get<McpServerResponse>(`/v1/mcp/servers/${id}`, { token })).body).toEqual(created.body);

    const patched = await api.patch<McpServerResponse>(`/v1/mcp/servers/${id}`, {
      token,
      body: { description: null, status: "disabled", transport: "sse" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      description: null,
      status: "disabled",
      transport: "sse",
      name: "github",
    });
    const unchanged = await api.patch<McpServerResponse>(`/v1/mcp/servers/${id}`, {
      token,
      body: { status: "disabled" },
    });
    expect(unchanged.body).toEqual(patched.body);

    expect((await api.delete(`/v1/mcp/servers/${id}`, { token })).status).toBe(204);
    for (const res of [
      await api.get<ProblemBody>(`/v1/mcp/servers/${id}`, { token }),
      await api.patch<ProblemBody>(`/v1/mcp/servers/${id}`, { token, body: { status: "active" } }),
      await api.delete<ProblemBody>(`/v1/mcp/servers/${id}`, { token }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    expect((await api.get<ListMcpServersResponse>("/v1/mcp/servers", { token })).body.data).toEqual([]);

    const log = await api.get<ListAuditLogsResponse>("/v1/audit-logs?resourceType=mcp_server", { token });
    expect(log.body.data.map((e) => e.action)).toEqual([
      "mcp_server.delete",
      "mcp_server.update",
      "mcp_server.create",
    ]);
    expect(log.body.data.every((e) => e.resourceId === id)).toBe(true);
  });

  it("lists newest first with a cursor, filtered by status and health", async () => {
    const { token } = await createTenant();
    const a = await register(token);
    const b = await register(token, { status: "disabled" });
    const c = await register(token);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: ListMcpServersResponse } = await api.get<ListMcpServersResponse>(
        `/v1/mcp/servers?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token },
      );
      seen.push(...res.body.data.map((s) => s.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([c.id, b.id, a.id]);
    const disabled = await api.get<ListMcpServersResponse>("/v1/mcp/servers?status=disabled", { token });
    expect(disabled.body.data.map((s) => s.id)).toEqual([b.id]);
    const unknown = await api.get<ListMcpServersResponse>("/v1/mcp/servers?health=unknown", { token });
    expect(unknown.body.data).toHaveLength(3);
    const healthy = await api.get<ListMcpServersResponse>("/v1/mcp/servers?health=healthy", { token });
    expect(healthy.body.data).toEqual([]);
  });

  describe("refuses URLs the outbound policy refuses (422), on create and update", () => {
    test.each([
      ["cloud metadata (link-local)", "http://169.254.169.254/latest/meta-data/", "link-local"],
      ["a metadata host name", "http://metadata.google.internal/mcp", "metadata"],
      ["file:", "file:///etc/passwd", "only http and https"],
      ["ftp:", "ftp://example.com/mcp", "only http and https"],
      ["credentials in the URL", "https://alice:hunter2@mcp.example.com/mcp", "credentials"],
      ["not a URL", "mcp.example.com", "not a valid absolute URL"],
    ])("%s", async (_label, url, reason) => {
      const { token } = await createTenant();
      const created = await api.post<ProblemBody>("/v1/mcp/servers", {
        token,
        body: { name: uniqueName(), url },
      });
      expect(created.status).toBe(422);
      expect(created.body).toMatchObject({ code: "UNPROCESSABLE" });
      expect(created.body.detail).toContain(reason);
      expect(created.body.detail).not.toContain("hunter2");

      const server = await register(token);
      const patched = await api.patch<ProblemBody>(`/v1/mcp/servers/${server.id}`, { token, body: { url } });
      expect(patched.status).toBe(422);
      expect((await api.get<McpServerResponse>(`/v1/mcp/servers/${server.id}`, { token })).body.url).toBe(
        server.url,
      );
      expect((await api.get<ListMcpServersResponse>("/v1/mcp/servers", { token })).body.data).toHaveLength(1);
    });
  });

  it("keeps names unique among live servers; a deleted server's name is free; built-in names are reserved", async () => {
    const { token } = await createTenant();
    const first = await register(token, { name: "dup" });
    const again = await api.post<ProblemBody>("/v1/mcp/servers", {
      token,
      body: { name: "dup", url: `${fakeScope().base}/mcp` },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");

    const other = await register(token, { name: "other" });
    const rename = await api.patch<ProblemBody>(`/v1/mcp/servers/${other.id}`, {
      token,
      body: { name: "dup" },
    });
    expect(rename.status).toBe(409);

    await api.delete(`/v1/mcp/servers/${first.id}`, { token });
    expect((await api.patch(`/v1/mcp/servers/${other.id}`, { token, body: { name: "dup" } })).status).toBe(
      200,
    );
    await register(token, { name: "other" });

    const builtin = await api.post<ProblemBody>("/v1/mcp/servers", {
      token,
      body: { name: "calculator", url: `${fakeScope().base}/mcp` },
    });
    expect(builtin.status).toBe(422);
    expect(builtin.body.detail).toContain("built-in");
  });

  it("registers the same name concurrently only once", async () => {
    const { token } = await createTenant();
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        api.post("/v1/mcp/servers", { token, body: { name: "race", url: `${fakeScope().base}/mcp` } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });

  it.each([
    ["an upper-case name", { name: "GitHub" }, "name"],
    ["a name with a space", { name: "git hub" }, "name"],
    ["an unknown transport", { transport: "websocket" }, "transport"],
    ["an unknown status", { status: "paused" }, "status"],
    ["a secret name and a token", { authSecretName: "TOKEN", authToken: "t" }, "authSecretName"],
    ["a reserved secret name", { authSecretName: "meridian_webhook_signing_key" }, "authSecretName"],
    ["a header the transport owns", { headers: { "Mcp-Session-Id": "x" } }, "headers"],
    ["a header value with a newline", { headers: { "X-Key": "a\r\nX-Evil: 1" } }, "headers.X-Key"],
    ["an unknown field", { timeoutMs: 5 }, "(root)"],
  ])("rejects %s with a 400 naming the field", async (_label, fields, path) => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/mcp/servers", {
      token,
      body: { name: uniqueName(), url: `${fakeScope().base}/mcp`, ...fields },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("VALIDATION_FAILED");
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("needs a named secret to exist (422)", async () => {
    const { token } = await createTenant();
    const res = await api.post<ProblemBody>("/v1/mcp/servers", {
      token,
      body: { name: uniqueName(), url: `${fakeScope().base}/mcp`, authSecretName: "NOT_SET" },
    });
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain("NOT_SET");
  });

  it("stores inline credentials encrypted in a hidden secret and never returns them", async () => {
    const { token, tenant } = await createTenant();
    const secretToken = `tok-${crypto.randomUUID()}`;
    const secretHeader = `key-${crypto.randomUUID()}`;
    const bodies: unknown[] = [];
    const server = await register(token, { authToken: secretToken, headers: { "X-Api-Key": secretHeader } });
    bodies.push(server);
    expect(server).toMatchObject({ hasAuth: true, authSecretName: null });
    expect(Object.keys(server)).not.toContain("authToken");
    expect(Object.keys(server)).not.toContain("headers");

    const [managed] = await managedSecrets(tenant.id);
    expect(managed?.name).toBe(`${MANAGED_SECRET_PREFIX}${server.id.replaceAll("-", "")}`);
    const stored = await withTenantDb(tenant.id, (db) =>
      getSecretValue(db, testConfig(), managed?.name ?? ""),
    );
    expect(JSON.parse(stored ?? "{}")).toMatchObject({
      token: secretToken,
      headers: { "X-Api-Key": secretHeader },
    });
    // The secrets API neither lists nor touches it.
    const secrets = await api.get<ListSecretsResponse>("/v1/secrets", { token });
    expect(secrets.body.data).toEqual([]);
    bodies.push(secrets.body);

    bodies.push((await api.get(`/v1/mcp/servers/${server.id}`, { token })).body);
    bodies.push((await api.get("/v1/mcp/servers", { token })).body);
    bodies.push((await api.get("/v1/audit-logs?resourceType=mcp_server", { token })).body);

    // Switching to a named secret deletes the inline one.
    await api.put("/v1/secrets/MCP_TOKEN", { token, body: { value: "named-value" } });
    const named = await api.patch<McpServerResponse>(`/v1/mcp/servers/${server.id}`, {
      token,
      body: { authSecretName: "MCP_TOKEN" },
    });
    expect(named.body).toMatchObject({ hasAuth: true, authSecretName: "MCP_TOKEN" });
    bodies.push(named.body);
    expect(await managedSecrets(tenant.id)).toEqual([]);

    // Back to inline, then removing auth altogether.
    const inline = await api.patch<McpServerResponse>(`/v1/mcp/servers/${server.id}`, {
      token,
      body: { authToken: secretToken },
    });
    expect(inline.body).toMatchObject({ hasAuth: true, authSecretName: null });
    expect(await managedSecrets(tenant.id)).toHaveLength(1);
    const none = await api.patch<McpServerResponse>(`/v1/mcp/servers/${server.id}`, {
      token,
      body: { authToken: null },
    });
    expect(none.body).toMatchObject({ hasAuth: false, authSecretName: null });
    expect(await managedSecrets(tenant.id)).toEqual([]);
    // A named secret is the tenant's: removing the server leaves it.
    expect(
      (await api.get<ListSecretsResponse>("/v1/secrets", { token })).body.data.map((s) => s.name),
    ).toEqual(["MCP_TOKEN"]);

    for (const body of bodies) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(secretToken);
      expect(text).not.toContain(secretHeader);
    }
  });

  it("deletes an inline credential with its server", async () => {
    const { token, tenant } = await createTenant();
    const server = await register(token, { authToken: "t" });
    expect(await managedSecrets(tenant.id)).toHaveLength(1);
    await api.delete(`/v1/mcp/servers/${server.id}`, { token });
    expect(await managedSecrets(tenant.id)).toEqual([]);
  });

  it("keeps tenants apart: another tenant's server answers 404 to every operation", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const server = await register(a.token, { name: "shared-name" });
    for (const res of [
      await api.get<ProblemBody>(`/v1/mcp/servers/${server.id}`, { token: b.token }),
      await api.patch<ProblemBody>(`/v1/mcp/servers/${server.id}`, {
        token: b.token,
        body: { status: "disabled" },
      }),
      await api.delete<ProblemBody>(`/v1/mcp/servers/${server.id}`, { token: b.token }),
      await api.get<ProblemBody>(`/v1/mcp/servers/${server.id}/discover`, { token: b.token }),
      await api.get<ProblemBody>(`/v1/mcp/servers/${server.id}/health`, { token: b.token }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    expect((await api.get<ListMcpServersResponse>("/v1/mcp/servers", { token: b.token })).body.data).toEqual(
      [],
    );
    // B may use the same name: names are per tenant.
    await register(b.token, { name: "shared-name" });
    const still = await api.get<McpServerResponse>(`/v1/mcp/servers/${server.id}`, { token: a.token });
    expect(still.body).toMatchObject({ status: "active", name: "shared-name" });
  });

  it("requires a credential; owners and admins write; every role reads", async () => {
    const fixture = await createTenant();
    const server = await register(fixture.token);
    const create = {
      method: "post",
      path: "/v1/mcp/servers",
      body: { name: uniqueName(), url: `${fakeScope().base}/mcp` },
    } as const;
    const patch = {
      method: "patch",
      path: `/v1/mcp/servers/${server.id}`,
      body: { description: "x" },
    } as const;
    const reads = [
      { method: "get", path: "/v1/mcp/servers" },
      { method: "get", path: `/v1/mcp/servers/${server.id}` },
    ] as const;
    for (const route of [
      create,
      patch,
      ...reads,
      { method: "delete", path: `/v1/mcp/servers/${server.id}` } as const,
    ]) {
      await expectAuthRequired(route);
    }
    // The second allowed role gets 409 for the name the first took: past authorization either way.
    await expectRoles(fixture, create, { allowed: ["owner", "admin"], denied: ["member", "viewer"] });
    await expectRoles(fixture, patch, { allowed: ["owner", "admin"], denied: ["member", "viewer"] });
    for (const route of reads) {
      await expectRoles(fixture, route, { allowed: ["owner", "admin", "member", "viewer"], denied: [] });
    }
    const member = await fixture.keyWithRole("member");
    const denied = await api.delete<ProblemBody>(`/v1/mcp/servers/${server.id}`, { token: member });
    expect(denied.status).toBe(403);
    const admin = await fixture.keyWithRole("admin");
    expect((await api.delete(`/v1/mcp/servers/${server.id}`, { token: admin })).status).toBe(204);
  });
});
