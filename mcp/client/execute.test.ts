import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { mcpServers, mcpToolExecutions } from "../../db/schema/mcp";
import { createTenant, type TenantFixture } from "../../test/harness/fixtures";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";
import { UnknownToolError } from "../server/execute";
import { MAX_OUTPUT_BYTES } from "./connect";
import { discoverRemote, toRegistryColumns } from "./discover";
import { executeRemoteTool, type RemoteExecuteRequest, UnknownRemoteServerError } from "./execute";
import { UNHEALTHY_HOLD_MS } from "./health";
import { saveDiscovery, saveHealth } from "./registry";
import { fakeScope, insertServer, testConfig, withToolContext } from "./test-fixtures";
import type { McpServerRow } from "./types";

async function setup(path = "/mcp", values: Partial<McpServerRow> = {}) {
  const fixture = await createTenant();
  const fake = fakeScope();
  const server = await insertServer(fixture.tenant.id, { url: `${fake.base}${path}`, ...values });
  const execute = (req: Omit<RemoteExecuteRequest, "server"> & { server?: RemoteExecuteRequest["server"] }) =>
    withToolContext(fixture.tenant.id, fixture.owner.id, (ctx) => executeRemoteTool(ctx, { server, ...req }));
  return { fixture, fake, server, execute };
}

function executions(fixture: TenantFixture, serverId: string) {
  return withTenantDb(fixture.tenant.id, (db) =>
    db
      .select()
      .from(mcpToolExecutions)
      .where(
        and(eq(mcpToolExecutions.tenantId, fixture.tenant.id), eq(mcpToolExecutions.serverId, serverId)),
      ),
  );
}

/** Stores a discovery of `server` as the discover route would, so calls validate from the cache. */
async function primeDiscovery(fixture: TenantFixture, server: McpServerRow) {
  await withTenantDb(fixture.tenant.id, async (db) => {
    const discovery = await discoverRemote({ db, config: testConfig() }, server);
    await saveDiscovery(db, server.id, toRegistryColumns(discovery));
  });
}

describe("executeRemoteTool", () => {
  it("calls the tool and records one execution (source remote, server id and name, sizes)", async () => {
    const { fixture, server, execute } = await setup();
    const result = await execute({ toolName: "add", input: { a: 2, b: 40 } });
    expect(result).toMatchObject({
      status: "succeeded",
      output: { content: [{ type: "text", text: "42" }], structuredContent: { sum: 42 } },
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const rows = await executions(fixture, server.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: result.executionId,
      source: "remote",
      serverId: server.id,
      serverName: server.name,
      toolName: "add",
      status: "succeeded",
      input: { a: 2, b: 40 },
      inputBytes: JSON.stringify({ a: 2, b: 40 }).length,
      output: result.output,
      outputBytes: JSON.stringify(result.output).length,
      error: null,
      createdBy: fixture.owner.id,
    });
  });

  it("finds the server by name, and throws for an unknown name or tool without recording", async () => {
    const { fixture, server, execute } = await setup();
    expect(
      await execute({ server: server.name, toolName: "echo", input: { text: "by name" } }),
    ).toMatchObject({
      status: "succeeded",
      output: { content: [{ type: "text", text: "by name" }] },
    });
    await expect(execute({ server: "no-such-server", toolName: "echo", input: {} })).rejects.toBeInstanceOf(
      UnknownRemoteServerError,
    );
    await expect(execute({ toolName: "no_such_tool", input: {} })).rejects.toBeInstanceOf(UnknownToolError);
    expect(await executions(fixture, server.id)).toHaveLength(1);
  });

  it("refuses input that fails the tool's JSON Schema before calling, from the cached discovery", async () => {
    const { fixture, fake, server, execute } = await setup();
    await primeDiscovery(fixture, server);
    const before = await fake.count();
    const result = await execute({ toolName: "add", input: { a: "two", b: 3 } });
    expect(result).toMatchObject({ status: "failed", error: { reason: "invalid_input" } });
    expect(result.error?.issues).toContainEqual(expect.objectContaining({ path: "a" }));
    expect(await fake.count()).toBe(before);
    const [row] = await executions(fixture, server.id);
    expect(row).toMatchObject({ status: "failed", output: { reason: "invalid_input" } });
  });

  it("validates against a live tool list when nothing is cached, and never sends tools/call", async () => {
    const { execute, fake } = await setup();
    const result = await execute({ toolName: "add", input: { a: 1 } });
    expect(result).toMatchObject({ status: "failed", error: { reason: "invalid_input" } });
    // initialize, initialized, tools/list (and the stream GET): no fourth POST for the call.
    expect((await fake.requests()).filter((r) => r.method === "POST")).toHaveLength(3);
  });

  it.each([
    ["a tool's error result", "fail", {}, "tool_error", "failed on purpose"],
    ["an answer over the output cap", "huge", {}, "output_too_large", String(MAX_OUTPUT_BYTES)],
    ["a tool slower than the timeout", "slow", { ms: 3_000 }, "timeout", "within 300 ms"],
  ])("records %s as a failed call", async (_label, toolName, input, reason, message) => {
    const { fixture, server, execute } = await setup();
    const result = await execute({ toolName, input, timeoutMs: 300 * (toolName === "slow" ? 1 : 20) });
    expect(result.status).toBe("failed");
    expect(result.error?.reason).toBe(reason);
    expect(result.error?.message).toContain(message);
    const [row] = await executions(fixture, server.id);
    expect(row).toMatchObject({ status: "failed", output: { reason } });
    expect(row?.error).toContain(message);
  });

  it("records a garbage answer as invalid_response", async () => {
    const { execute } = await setup("/garbage");
    expect(await execute({ toolName: "echo", input: { text: "x" } })).toMatchObject({
      status: "failed",
      error: { reason: "invalid_response" },
    });
  });

  it("skips a disabled server and a recently unreachable one without calling them", async () => {
    const { fixture, fake, server, execute } = await setup();
    await withTenantDb(fixture.tenant.id, (db) =>
      db.update(mcpServers).set({ status: "disabled" }).where(eq(mcpServers.id, server.id)),
    );
    expect(await execute({ server: server.name, toolName: "echo", input: { text: "x" } })).toMatchObject({
      status: "failed",
      error: { reason: "server_disabled" },
    });
    await withTenantDb(fixture.tenant.id, async (db) => {
      await db.update(mcpServers).set({ status: "active" }).where(eq(mcpServers.id, server.id));
      await saveHealth(db, server.id, {
        status: "unreachable",
        latencyMs: null,
        error: "connection refused",
        checkedAt: new Date(),
      });
    });
    const skipped = await execute({ server: server.name, toolName: "echo", input: { text: "x" } });
    expect(skipped).toMatchObject({ status: "failed", error: { reason: "server_unhealthy" } });
    expect(skipped.error?.message).toContain("connection refused");
    expect(await fake.count()).toBe(0);

    // Once the verdict is older than the hold, calls try the server again.
    await withTenantDb(fixture.tenant.id, (db) =>
      saveHealth(db, server.id, {
        status: "unreachable",
        latencyMs: null,
        error: "connection refused",
        checkedAt: new Date(Date.now() - UNHEALTHY_HOLD_MS - 1_000),
      }),
    );
    expect(await execute({ server: server.name, toolName: "echo", input: { text: "x" } })).toMatchObject({
      status: "succeeded",
    });
    expect((await executions(fixture, server.id)).map((r) => r.status).sort()).toEqual([
      "failed",
      "failed",
      "succeeded",
    ]);
  });
});
