import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { tenantSecrets } from "../../../db/schema";
import { api, type ProblemBody } from "../../../test/harness/api";
import { expectAuthRequired, expectRoles } from "../../../test/harness/authz";
import { createTenant } from "../../../test/harness/fixtures";
import { toHex } from "../../lib/bytes";
import { getSecretValue } from "../../lib/secrets";
import type { ListAuditLogsResponse } from "../audit-logs/list-audit-logs";
import { withTenantDb } from "../conversations/test-fixtures";
import type { ListSecretsResponse } from "./list-secrets";
import { MAX_SECRET_CHARS } from "./put-secret";
import type { SecretResponse } from "./schemas";

const config = {
  SECRETS_MASTER_KEYS: (env as unknown as { SECRETS_MASTER_KEYS: string }).SECRETS_MASTER_KEYS,
};

/** A value that is easy to spot in any text it leaks into. */
function secretValue(): string {
  return `sk-live-${crypto.randomUUID()}`;
}

function storedValue(tenantId: string, name: string): Promise<string | null> {
  return withTenantDb(tenantId, (db) => getSecretValue(db, config, name));
}

describe("secrets", () => {
  it("creates (201), replaces (200), lists and deletes a secret without ever returning its value", async () => {
    const { token, tenant } = await createTenant();
    const first = secretValue();
    const second = secretValue();
    const bodies: unknown[] = [];

    const created = await api.put<SecretResponse>("/v1/secrets/GITHUB_TOKEN", {
      token,
      body: { value: first },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(["createdAt", "keyId", "name", "updatedAt"]);
    expect(created.body.name).toBe("GITHUB_TOKEN");
    bodies.push(created.body);

    const replaced = await api.put<SecretResponse>("/v1/secrets/GITHUB_TOKEN", {
      token,
      body: { value: second },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.createdAt).toBe(created.body.createdAt);
    expect(Date.parse(replaced.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));
    bodies.push(replaced.body);
    expect(await storedValue(tenant.id, "GITHUB_TOKEN")).toBe(second);

    const list = await api.get<ListSecretsResponse>("/v1/secrets", { token });
    expect(list.body.data).toEqual([replaced.body]);
    bodies.push(list.body);

    const log = await api.get<ListAuditLogsResponse>("/v1/audit-logs?resourceType=secret", { token });
    expect(log.body.data.map((e) => [e.action, e.resourceId])).toEqual([
      ["secret.update", "GITHUB_TOKEN"],
      ["secret.create", "GITHUB_TOKEN"],
    ]);
    bodies.push(log.body);

    const deleted = await api.delete("/v1/secrets/GITHUB_TOKEN", { token });
    expect(deleted.status).toBe(204);
    expect((await api.delete<ProblemBody>("/v1/secrets/GITHUB_TOKEN", { token })).body.code).toBe(
      "NOT_FOUND",
    );
    expect((await api.get<ListSecretsResponse>("/v1/secrets", { token })).body.data).toEqual([]);
    expect(await storedValue(tenant.id, "GITHUB_TOKEN")).toBeNull();
    const afterDelete = await api.get<ListAuditLogsResponse>("/v1/audit-logs?action=secret.delete", {
      token,
    });
    expect(afterDelete.body.data.map((e) => e.resourceId)).toEqual(["GITHUB_TOKEN"]);
    bodies.push(afterDelete.body);

    for (const body of bodies) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(first);
      expect(text).not.toContain(second);
    }
  });

  it("stores ciphertext, not the value", async () => {
    const { token, tenant } = await createTenant();
    const value = secretValue();
    await api.put("/v1/secrets/OPENAI_KEY", { token, body: { value } });
    const [row] = await withTenantDb(tenant.id, (db) =>
      db
        .select()
        .from(tenantSecrets)
        .where(and(eq(tenantSecrets.tenantId, tenant.id), eq(tenantSecrets.name, "OPENAI_KEY"))),
    );
    expect(row).toBeDefined();
    const plain = toHex(new TextEncoder().encode(value));
    for (const field of [row?.ciphertext, row?.iv, row?.wrappedDek]) {
      expect(field?.byteLength).toBeGreaterThan(0);
      expect(toHex(field as Uint8Array)).not.toContain(plain.slice(0, 16));
    }
    expect(row?.ciphertext.byteLength).toBe(value.length + 16);
    expect(await storedValue(tenant.id, "OPENAI_KEY")).toBe(value);
  });

  it("lists newest first with a cursor", async () => {
    const { token } = await createTenant();
    const names = ["A", "B", "C"];
    for (const name of names) await api.put(`/v1/secrets/${name}`, { token, body: { value: "v" } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: ListSecretsResponse } = await api.get<ListSecretsResponse>(
        `/v1/secrets?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token },
      );
      seen.push(...res.body.data.map((s) => s.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["C", "B", "A"]);
  });

  it.each([
    ["a name starting with a digit", "1TOKEN", { value: "v" }, "name"],
    ["a name with a dash", "GITHUB-TOKEN", { value: "v" }, "name"],
    ["a name of 65 characters", `A${"B".repeat(64)}`, { value: "v" }, "name"],
    ["a missing value", "TOKEN", {}, "value"],
    ["an empty value", "TOKEN", { value: "" }, "value"],
    ["a non-string value", "TOKEN", { value: 42 }, "value"],
    ["an unknown field", "TOKEN", { value: "v", expiresAt: "never" }, "(root)"],
  ])("rejects %s with a 400 naming the field", async (_label, name, body, path) => {
    const { token } = await createTenant();
    const res = await api.put<ProblemBody>(`/v1/secrets/${name}`, { token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(res.body.errors?.map((e) => e.path)).toContain(path);
  });

  it("does not echo a rejected value", async () => {
    const { token } = await createTenant();
    const value = `${secretValue()}${"x".repeat(MAX_SECRET_CHARS)}`;
    const res = await api.put<ProblemBody>("/v1/secrets/TOKEN", { token, body: { value } });
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual(["value"]);
    expect(JSON.stringify(res.body)).not.toContain(value.slice(0, 40));
  });

  it("keeps each tenant's secrets apart", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const aValue = secretValue();
    const bValue = secretValue();
    await api.put("/v1/secrets/SHARED_NAME", { token: a.token, body: { value: aValue } });
    await api.put("/v1/secrets/ONLY_A", { token: a.token, body: { value: aValue } });

    // Same name in B: a new secret in B's namespace, not an overwrite of A's.
    const bPut = await api.put("/v1/secrets/SHARED_NAME", { token: b.token, body: { value: bValue } });
    expect(bPut.status).toBe(201);
    expect(await storedValue(a.tenant.id, "SHARED_NAME")).toBe(aValue);
    expect(await storedValue(b.tenant.id, "SHARED_NAME")).toBe(bValue);
    expect(await storedValue(b.tenant.id, "ONLY_A")).toBeNull();

    const bDelete = await api.delete<ProblemBody>("/v1/secrets/ONLY_A", { token: b.token });
    expect(bDelete.status).toBe(404);
    expect(await storedValue(a.tenant.id, "ONLY_A")).toBe(aValue);

    const bList = await api.get<ListSecretsResponse>("/v1/secrets", { token: b.token });
    expect(bList.body.data.map((s) => s.name)).toEqual(["SHARED_NAME"]);
    await api.delete("/v1/secrets/SHARED_NAME", { token: b.token });
    expect(await storedValue(a.tenant.id, "SHARED_NAME")).toBe(aValue);
  });

  it("requires a credential; owners and admins write, every role lists names", async () => {
    const fixture = await createTenant();
    const put = { method: "put", path: "/v1/secrets/ROLE_TEST", body: { value: "v" } } as const;
    const del = { method: "delete", path: "/v1/secrets/ROLE_TEST" } as const;
    await expectAuthRequired(put);
    await expectAuthRequired({ method: "get", path: "/v1/secrets" });
    await expectAuthRequired(del);
    await expectRoles(fixture, put, { allowed: ["owner", "admin"], denied: ["member", "viewer"] });
    await expectRoles(fixture, del, { allowed: ["owner", "admin"], denied: ["member", "viewer"] });
    await expectRoles(
      fixture,
      { method: "get", path: "/v1/secrets" },
      { allowed: ["owner", "admin", "member", "viewer"], denied: [] },
    );
  });
});
