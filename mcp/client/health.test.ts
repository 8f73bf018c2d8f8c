import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { mcpServerRegistry } from "../../db/schema/mcp";
import { createTenant } from "../../test/harness/fixtures";
import { parseConfig } from "../../workers/env";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";
import { checkTenantServers, isHeldUnhealthy, probeRemote } from "./health";
import { readRegistry } from "./registry";
import { fakeScope, insertServer, testConfig } from "./test-fixtures";

describe("probeRemote", () => {
  it("is healthy with a latency when initialize and ping answer", async () => {
    const { tenant } = await createTenant();
    const fake = fakeScope();
    const server = await insertServer(tenant.id, { url: `${fake.base}/mcp` });
    const health = await withTenantDb(tenant.id, (db) => probeRemote({ db, config: testConfig() }, server));
    expect(health).toMatchObject({
      status: "healthy",
      error: null,
      reason: null,
      transport: "streamable_http",
    });
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ["a closed port", "http://127.0.0.1:9/mcp", "unreachable"],
    ["a server that is not MCP", "/garbage", "invalid_response"],
    ["a refused credential", "/auth/mcp", "auth_failed"],
  ])("is unreachable for %s, with the reason", async (_label, path, reason) => {
    const { tenant } = await createTenant();
    const url = path.startsWith("http") ? path : `${fakeScope().base}${path}`;
    const server = await insertServer(tenant.id, { url });
    const health = await withTenantDb(tenant.id, (db) => probeRemote({ db, config: testConfig() }, server));
    expect(health).toMatchObject({ status: "unreachable", latencyMs: null, reason });
    expect(health.error).toBeTruthy();
  });
});

describe("checkTenantServers (the scheduled check, per tenant)", () => {
  it("probes every active live server of the tenant and records the outcome", async () => {
    const { tenant } = await createTenant();
    const other = await createTenant();
    const healthy = await insertServer(tenant.id, { url: `${fakeScope().base}/mcp` });
    const down = await insertServer(tenant.id, { url: "http://127.0.0.1:9/mcp" });
    const disabledScope = fakeScope();
    const disabled = await insertServer(tenant.id, { url: `${disabledScope.base}/mcp`, status: "disabled" });
    const deletedScope = fakeScope();
    const deleted = await insertServer(tenant.id, { url: `${deletedScope.base}/mcp`, deletedAt: new Date() });
    const othersScope = fakeScope();
    const others = await insertServer(other.tenant.id, { url: `${othersScope.base}/mcp` });

    const summary = await checkTenantServers(parseConfig(env), tenant.id);
    expect(summary).toEqual({ checked: 2, healthy: 1, degraded: 0, unreachable: 1 });

    const registry = await withTenantDb(tenant.id, async (db) => ({
      healthy: await readRegistry(db, healthy.id),
      down: await readRegistry(db, down.id),
      disabled: await readRegistry(db, disabled.id),
      deleted: await readRegistry(db, deleted.id),
    }));
    expect(registry.healthy).toMatchObject({ healthStatus: "healthy", lastError: null });
    expect(registry.healthy?.lastHealthAt).toBeInstanceOf(Date);
    expect(registry.down).toMatchObject({ healthStatus: "unreachable" });
    expect(isHeldUnhealthy(registry.down)).toBe(true);
    expect(registry.disabled).toBeNull();
    expect(registry.deleted).toBeNull();
    expect(await disabledScope.count()).toBe(0);
    expect(await deletedScope.count()).toBe(0);
    expect(await othersScope.count()).toBe(0);
    const othersRow = await withTenantDb(other.tenant.id, (db) =>
      db
        .select()
        .from(mcpServerRegistry)
        .where(and(eq(mcpServerRegistry.serverId, others.id))),
    );
    expect(othersRow).toEqual([]);
  });
});
