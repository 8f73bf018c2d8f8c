import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../test/harness/api";
import { createTenant, PLATFORM_ADMIN_TOKEN, type TenantFixture } from "../../test/harness/fixtures";
import { eventually } from "../../test/harness/observability";
import { ownerQuery } from "../../test/harness/owner-db";
import { parseConfig } from "../env";
import { redisFor } from "../lib/redis";
import type { ExecuteAgentResponse } from "../routes/agents/execute-agent";
import type { AgentResponse } from "../routes/agents/schemas";
import { createCollection, settled, uploadText } from "../routes/rag-documents/test-fixtures";
import { runToEnd } from "../routes/workflow-executions/test-fixtures";
import { eraseTenant } from "./erasure/erase-tenant";

const config = parseConfig(env);

/** Tables whose rows outlive their tenant, anonymised (docs/data-model.md). */
const KEPT = ["audit_logs", "usage_events", "usage_rollups"];

interface Footprint {
  fixture: TenantFixture;
  agentId: string;
  runId: string;
  executionId: string;
  documentId: string;
  apiKey: string;
}

/** A tenant with something in every store: rows, an original, run and execution objects, Redis keys. */
async function busyTenant(): Promise<Footprint> {
  const fixture = await createTenant();
  const { token } = fixture;
  const apiKey = await fixture.keyWithRole("admin");
  const agent = await api.post<AgentResponse>("/v1/agents", {
    token: apiKey,
    body: { name: "kept", model: "claude-sonnet-4-6", resourceLimits: { maxTokens: 64 } },
  });
  expect(agent.status, JSON.stringify(agent.body)).toBe(201);
  // Read twice: the second comes from the cache, so the tenant has cache keys in Redis.
  await api.get(`/v1/agents/${agent.body.id}`, { token });
  await api.get(`/v1/agents/${agent.body.id}`, { token });
  const run = await api.post<ExecuteAgentResponse>(`/v1/agents/${agent.body.id}/execute`, {
    token,
    body: { message: "Hello there" },
  });
  expect(run.status, JSON.stringify(run.body)).toBe(200);
  const execution = await runToEnd(token, {
    steps: [{ id: "shape", type: "transform", output: { ok: true } }],
  });
  const collection = await createCollection(token);
  const document = await uploadText(
    token,
    collection.id,
    "Erasure must leave nothing of this sentence behind.",
  );
  await settled(token, document.id);
  return {
    fixture,
    agentId: agent.body.id,
    runId: run.body.run.id,
    executionId: execution.id,
    documentId: document.id,
    apiKey,
  };
}

/** Rows of the tenant per table, as the table owner sees them (no RLS), tables without any left out. */
async function rowsPerTable(tenantId: string): Promise<Record<string, number>> {
  const { rows: tables } = await ownerQuery<{ table_name: string }>(
    `select table_name from information_schema.columns
     where table_schema = 'public' and column_name = 'tenant_id' order by table_name`,
  );
  const counts: Record<string, number> = {};
  const tenantRow = await ownerQuery("select 1 from tenants where id = $1", [tenantId]);
  if (tenantRow.rows.length > 0) counts.tenants = tenantRow.rows.length;
  for (const { table_name } of tables) {
    const { rows } = await ownerQuery<{ n: string }>(
      `select count(*) as n from "${table_name}" where tenant_id = $1`,
      [tenantId],
    );
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) counts[table_name] = n;
  }
  return counts;
}

async function redisKeysNaming(values: string[]): Promise<string[]> {
  const redis = redisFor(config);
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, { match: "*", count: 1000 });
    found.push(...keys.filter((key) => values.some((value) => key.includes(value))));
    cursor = String(next);
  } while (cursor !== "0");
  return found;
}

/** What an object's storage still holds: its key-value pairs and the rows of its SQLite tables. */
async function storedIn(stub: DurableObjectStub): Promise<number> {
  return runInDurableObject(stub, async (_instance, state) => {
    let stored = (await state.storage.list()).size;
    const tables = state.storage.sql
      .exec<{ name: string }>("select name from sqlite_master where type = 'table' and name not like '_cf_%'")
      .toArray();
    for (const { name } of tables) {
      stored += Number(state.storage.sql.exec(`select count(*) as n from "${name}"`).one().n);
    }
    return stored;
  });
}

function runStub(tenantId: string, runId: string): DurableObjectStub {
  return env.AGENT_RUN.get(env.AGENT_RUN.idFromName(`${tenantId}:${runId}`));
}

function executionStub(tenantId: string, executionId: string): DurableObjectStub {
  return env.WORKFLOW_EXECUTION.get(env.WORKFLOW_EXECUTION.idFromName(`${tenantId}:${executionId}`));
}

interface TenantExport {
  id: string;
  status: string;
  rows: number | null;
  bytes: number | null;
  error: string | null;
}

async function exportOf(tenantId: string): Promise<{ lines: Record<string, unknown>[]; text: string }> {
  const requested = await api.post<TenantExport>(`/v1/tenants/${tenantId}/export`, {
    token: PLATFORM_ADMIN_TOKEN,
  });
  expect(requested.status, JSON.stringify(requested.body)).toBe(202);
  expect(requested.headers.get("location")).toBe(`/v1/tenants/${tenantId}/exports/${requested.body.id}`);
  const done = await eventually(
    async () =>
      (
        await api.get<TenantExport>(`/v1/tenants/${tenantId}/exports/${requested.body.id}`, {
          token: PLATFORM_ADMIN_TOKEN,
        })
      ).body,
    (body) => body.status === "completed",
    20_000,
  );
  const download = await api.get<string>(`/v1/tenants/${tenantId}/exports/${requested.body.id}/download`, {
    token: PLATFORM_ADMIN_TOKEN,
  });
  expect(download.status).toBe(200);
  expect(download.headers.get("content-type")).toBe("application/x-ndjson");
  const text = download.body;
  const lines = text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(done.rows).toBe(lines.length);
  expect(done.bytes).toBe(new TextEncoder().encode(text).byteLength);
  return { lines, text };
}

describe("tenant export", () => {
  it("holds every row of the tenant and its originals, without credentials and without any other tenant", async () => {
    const a = await busyTenant();
    const b = await createTenant();
    const tenantId = a.fixture.tenant.id;
    const { lines, text } = await exportOf(tenantId);

    expect(lines[0]).toMatchObject({ format: "meridian.tenant-export.v1", tenantId });
    const rows = lines.filter((line) => "table" in line) as { table: string; row: Record<string, unknown> }[];
    const exported: Record<string, number> = {};
    for (const { table } of rows) exported[table] = (exported[table] ?? 0) + 1;
    // Every row the database holds for the tenant is in the file (the export's own row, and the
    // idempotency replay cache, are the two things left out).
    const stored = await rowsPerTable(tenantId);
    delete stored.tenant_exports;
    delete stored.idempotency_keys;
    expect(exported).toEqual(stored);
    expect(stored).toMatchObject({
      agents: 1,
      agent_runs: 1,
      workflow_executions: 1,
      documents: 1,
      users: 1,
    });
    expect(rows.every(({ table, row }) => (table === "tenants" ? row.id : row.tenant_id) === tenantId)).toBe(
      true,
    );
    expect(lines.at(-1)).toMatchObject({ summary: { rows: exported, objects: 1 } });

    const original = lines.find((line) => "object" in line) as { object: string; base64: string };
    expect(original.object).toBe(`documents/${a.documentId}/original`);
    expect(atob(original.base64)).toBe("Erasure must leave nothing of this sentence behind.");

    // Credentials stay behind: neither hashes nor the tenant's secrets travel.
    const user = rows.find((r) => r.table === "users")?.row ?? {};
    expect(user).not.toHaveProperty("password_hash");
    expect(rows.find((r) => r.table === "api_keys")?.row).not.toHaveProperty("key_hash");
    expect(text).not.toContain(b.tenant.id);
  });

  it("is for platform admins only, and one tenant's export cannot be reached through another", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const denied = await api.post<ProblemBody>(`/v1/tenants/${a.tenant.id}/export`, { token: a.token });
    expect(denied.status).toBe(403);

    const requested = await api.post<TenantExport>(`/v1/tenants/${a.tenant.id}/export`, {
      token: PLATFORM_ADMIN_TOKEN,
    });
    const crossed = await api.get<ProblemBody>(`/v1/tenants/${b.tenant.id}/exports/${requested.body.id}`, {
      token: PLATFORM_ADMIN_TOKEN,
    });
    expect(crossed.status).toBe(404);
    const unknown = await api.get<ProblemBody>(`/v1/tenants/${a.tenant.id}/exports/${crypto.randomUUID()}`, {
      token: PLATFORM_ADMIN_TOKEN,
    });
    expect(unknown.status).toBe(404);
  });

  it("answers 409 for the download of an export that is not complete", async () => {
    const a = await createTenant();
    const { rows } = await ownerQuery<{ id: string }>(
      "insert into tenant_exports (id, tenant_id, status) values (gen_random_uuid(), $1, 'running') returning id",
      [a.tenant.id],
    );
    const res = await api.get<ProblemBody>(`/v1/tenants/${a.tenant.id}/exports/${rows[0]?.id}/download`, {
      token: PLATFORM_ADMIN_TOKEN,
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("CONFLICT");
  });
});

describe("tenant deletion", () => {
  it("erases the tenant from PostgreSQL, the bucket, its objects and Redis, keeping only anonymised audit and usage", async () => {
    const a = await busyTenant();
    const b = await busyTenant();
    const tenantId = a.fixture.tenant.id;
    const before = await ownerQuery<{ quantity: string; cost: string }>(
      "select sum(quantity) as quantity, sum(cost_micro_usd) as cost from usage_events where tenant_id = $1",
      [tenantId],
    );
    const ownedKeys = await redisKeysNaming([tenantId]);
    expect(ownedKeys.length).toBeGreaterThan(0);
    expect(await storedIn(runStub(tenantId, a.runId))).toBeGreaterThan(0);
    expect(await storedIn(executionStub(tenantId, a.executionId))).toBeGreaterThan(0);

    const denied = await api.delete<ProblemBody>(`/v1/tenants/${tenantId}`, { token: a.fixture.token });
    expect(denied.status).toBe(403);
    const deleted = await api.delete<{ id: string; status: string }>(`/v1/tenants/${tenantId}`, {
      token: PLATFORM_ADMIN_TOKEN,
    });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);
    expect(deleted.body).toMatchObject({ id: tenantId, status: "erasing" });
    // Stopped at once, before the erasure has run: the key and the session are refused.
    expect((await api.get(`/v1/agents/${a.agentId}`, { token: a.apiKey })).status).toBe(401);

    await eventually(
      () => rowsPerTable(tenantId),
      (rows) => !rows.tenants,
      30_000,
    );
    const left = await rowsPerTable(tenantId);
    expect(Object.keys(left).sort()).toEqual(KEPT.filter((table) => table in left).sort());
    expect(left.audit_logs).toBeGreaterThan(0);
    const personal = await ownerQuery<{ n: string }>(
      `select (select count(*) from audit_logs where tenant_id = $1 and (actor_id is not null or ip is not null or changes is not null))
            + (select count(*) from usage_events where tenant_id = $1 and (user_id is not null or api_key_id is not null))
            + (select count(*) from usage_rollups where tenant_id = $1 and (user_id is not null or api_key_id is not null)) as n`,
      [tenantId],
    );
    expect(Number(personal.rows[0]?.n)).toBe(0);
    const after = await ownerQuery<{ quantity: string; cost: string }>(
      "select sum(quantity) as quantity, sum(cost_micro_usd) as cost from usage_events where tenant_id = $1",
      [tenantId],
    );
    expect(after.rows[0]).toEqual(before.rows[0]);
    const rollups = await ownerQuery<{ quantity: string }>(
      "select sum(quantity) as quantity from usage_rollups where tenant_id = $1",
      [tenantId],
    );
    expect(rollups.rows[0]?.quantity).toBe(before.rows[0]?.quantity);

    expect((await env.DOCUMENTS.list({ prefix: `tenants/${tenantId}/` })).objects).toEqual([]);
    expect(await storedIn(runStub(tenantId, a.runId))).toBe(0);
    expect(await storedIn(executionStub(tenantId, a.executionId))).toBe(0);
    expect(await redisKeysNaming([tenantId, a.fixture.owner.id])).toEqual([]);
    expect(await api.get(`/v1/tenants/${tenantId}`, { token: PLATFORM_ADMIN_TOKEN })).toMatchObject({
      status: 404,
    });

    // The other tenant lost nothing.
    const other = b.fixture.tenant.id;
    expect((await api.get(`/v1/agents/${b.agentId}`, { token: b.apiKey })).status).toBe(200);
    expect((await env.DOCUMENTS.list({ prefix: `tenants/${other}/` })).objects).toHaveLength(1);
    expect(await storedIn(runStub(other, b.runId))).toBeGreaterThan(0);
    expect(await rowsPerTable(other)).toMatchObject({ tenants: 1, agents: 1, documents: 1, agent_runs: 1 });

    // A redelivered erasure finds nothing left and does no harm.
    const again = await eraseTenant(env, config, tenantId);
    expect(again).toMatchObject({ erased: true, durableObjects: 0, objects: 0, redisKeys: 0 });
    expect(again.rows.every((row) => row.affected === 0)).toBe(true);
  });

  it("refuses to erase a live tenant", async () => {
    const a = await createTenant();
    const report = await eraseTenant(env, config, a.tenant.id);
    expect(report.erased).toBe(false);
    expect(await rowsPerTable(a.tenant.id)).toMatchObject({ tenants: 1, users: 1 });
  });

  it("the purge hands a tenant past its grace period to erasure", async () => {
    const a = await createTenant();
    await ownerQuery("update tenants set deleted_at = now() - interval '40 days' where id = $1", [
      a.tenant.id,
    ]);
    await env.JOBS.send({
      type: "purge_soft_deleted",
      olderThanDays: 30,
      requestedAt: new Date().toISOString(),
    });
    await eventually(
      () => rowsPerTable(a.tenant.id),
      (rows) => !rows.tenants,
      20_000,
    );
    expect(Object.keys(await rowsPerTable(a.tenant.id)).every((table) => KEPT.includes(table))).toBe(true);
  });
});
