import { env } from "cloudflare:workers";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { mcpFiles, mcpToolExecutions } from "../../db/schema";
import type { TenantDb } from "../../db/tenant";
import { createTenant } from "../../test/harness/fixtures";
import { parseConfig } from "../../workers/env";
import { newId } from "../../workers/lib/ids";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";
import { executeBuiltinTool, MAX_RECORDED_JSON_BYTES, UnknownToolError } from "./execute";
import { type BuiltinMcpServer, defineTool, type McpToolContext, ToolError } from "./types";

const echo = z.object({ value: z.unknown() }).strict();

/** A server of this file's own, with one tool per behaviour the executor must handle. */
const testServer: BuiltinMcpServer = {
  name: "test",
  title: "Test",
  description: "Tools that succeed, fail, hang and write.",
  version: "0.0.0",
  tools: [
    defineTool({ name: "echo", description: "Returns its input.", input: echo, run: async (i) => i }),
    defineTool({
      name: "refuse",
      description: "Always a ToolError.",
      input: z.object({}),
      run: async () => {
        throw new ToolError("No, thank you.", "refused");
      },
    }),
    defineTool({
      name: "crash",
      description: "Throws a plain Error with internals in its message.",
      input: z.object({}),
      run: async () => {
        throw new Error("connection string postgres://secret@db");
      },
    }),
    defineTool({
      name: "hang",
      description: "Finishes only when its signal aborts.",
      input: z.object({}),
      run: (_i, ctx) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
        ),
    }),
    defineTool({
      name: "bad-sql",
      description: "Runs a statement PostgreSQL refuses.",
      input: z.object({}),
      run: async (_i, ctx) => ctx.db.execute(sql`select 1 / 0`),
    }),
    defineTool({
      name: "write-then-refuse",
      description: "Writes a file, then fails: the write must not survive.",
      input: z.object({ path: z.string() }),
      run: async ({ path }, ctx) => {
        await ctx.db.insert(mcpFiles).values({ tenantId: ctx.tenantId, path, kind: "file", content: "x" });
        throw new ToolError("Changed my mind.", "refused");
      },
    }),
    defineTool({
      name: "write",
      description: "Writes a file.",
      input: z.object({ path: z.string() }),
      run: async ({ path }, ctx) => {
        await ctx.db.insert(mcpFiles).values({ tenantId: ctx.tenantId, path, kind: "file", content: "x" });
        return { written: path };
      },
    }),
  ],
};
const servers = new Map([[testServer.name, testServer]]);

function contextFor(db: TenantDb, keyId: string, signal = new AbortController().signal): McpToolContext {
  return {
    tenantId: db.tenantId,
    principal: { kind: "api_key", tenantId: db.tenantId, keyId, role: "member" },
    db,
    config: parseConfig(env),
    env,
    signal,
  };
}

function bytesOf(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).byteLength;
}

async function rowOf(db: TenantDb, id: string) {
  const [row] = await db.select().from(mcpToolExecutions).where(eq(mcpToolExecutions.id, id));
  return row;
}

describe("executeBuiltinTool", () => {
  it("runs the tool and records the call with who made it, for which run, and the sizes", async () => {
    const { tenant } = await createTenant();
    const keyId = newId();
    const runId = newId();
    await withTenantDb(tenant.id, async (db) => {
      const result = await executeBuiltinTool(
        contextFor(db, keyId),
        { serverName: "test", toolName: "echo", input: { value: [1, "é"] }, runId },
        { servers },
      );
      expect(result).toMatchObject({ status: "succeeded", output: { value: [1, "é"] } });
      expect(result.error).toBeUndefined();
      expect(await rowOf(db, result.executionId)).toMatchObject({
        tenantId: tenant.id,
        source: "builtin",
        serverId: null,
        serverName: "test",
        toolName: "echo",
        runId,
        status: "succeeded",
        input: { value: [1, "é"] },
        output: { value: [1, "é"] },
        inputBytes: bytesOf({ value: [1, "é"] }),
        outputBytes: bytesOf({ value: [1, "é"] }),
        error: null,
        createdBy: keyId,
        durationMs: result.durationMs,
      });
    });
  });

  it("turns a ToolError into a failed result with its reason, and records it", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const result = await executeBuiltinTool(
        contextFor(db, newId()),
        { serverName: "test", toolName: "refuse", input: {} },
        { servers },
      );
      expect(result).toMatchObject({
        status: "failed",
        error: { message: "No, thank you.", reason: "refused" },
      });
      expect(result.output).toBeUndefined();
      expect(await rowOf(db, result.executionId)).toMatchObject({
        status: "failed",
        error: "No, thank you.",
        output: { error: "No, thank you.", reason: "refused" },
      });
    });
  });

  it("reports input failing the schema as invalid_input with the issues, without running the tool", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const result = await executeBuiltinTool(
        contextFor(db, newId()),
        { serverName: "test", toolName: "write", input: { path: 42 } },
        { servers },
      );
      expect(result).toMatchObject({
        status: "failed",
        error: { reason: "invalid_input", issues: [{ path: "path", message: expect.any(String) }] },
      });
      expect(await db.select().from(mcpFiles)).toEqual([]);
      expect(await rowOf(db, result.executionId)).toMatchObject({ status: "failed", input: { path: 42 } });
    });
  });

  it("hides an unexpected exception's message behind internal_error", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const result = await executeBuiltinTool(
        contextFor(db, newId()),
        { serverName: "test", toolName: "crash", input: {} },
        { servers },
      );
      expect(result.error).toEqual({ message: "The tool failed unexpectedly.", reason: "internal_error" });
      expect(JSON.stringify(await rowOf(db, result.executionId))).not.toContain("secret");
    });
  });

  it("keeps the caller's transaction usable after a tool's failed statement, and undoes a failed tool's writes", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const ctx = contextFor(db, newId());
      const failed = await executeBuiltinTool(
        ctx,
        { serverName: "test", toolName: "bad-sql", input: {} },
        { servers },
      );
      expect(failed.error?.reason).toBe("internal_error");
      const undone = await executeBuiltinTool(
        ctx,
        { serverName: "test", toolName: "write-then-refuse", input: { path: "/undone.txt" } },
        { servers },
      );
      expect(undone.error?.reason).toBe("refused");
      const kept = await executeBuiltinTool(
        ctx,
        { serverName: "test", toolName: "write", input: { path: "/kept.txt" } },
        { servers },
      );
      expect(kept.status).toBe("succeeded");
      const files = await db.select({ path: mcpFiles.path }).from(mcpFiles);
      expect(files).toEqual([{ path: "/kept.txt" }]);
      const recorded = await db
        .select({ toolName: mcpToolExecutions.toolName, status: mcpToolExecutions.status })
        .from(mcpToolExecutions)
        .orderBy(mcpToolExecutions.id);
      expect(recorded).toEqual([
        { toolName: "bad-sql", status: "failed" },
        { toolName: "write-then-refuse", status: "failed" },
        { toolName: "write", status: "succeeded" },
      ]);
    });
  });

  it("runs concurrent calls on one database handle one at a time, all recorded", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const ctx = contextFor(db, newId());
      const results = await Promise.all(
        ["/a", "/b", "/c"].map((path, i) =>
          executeBuiltinTool(
            ctx,
            { serverName: "test", toolName: i === 1 ? "write-then-refuse" : "write", input: { path } },
            { servers },
          ),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(["succeeded", "failed", "succeeded"]);
      const files = await db.select({ path: mcpFiles.path }).from(mcpFiles).orderBy(mcpFiles.path);
      expect(files).toEqual([{ path: "/a" }, { path: "/c" }]);
    });
  });

  it("fails a tool that outlives its timeout, and one whose caller cancels", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const timedOut = await executeBuiltinTool(
        contextFor(db, newId()),
        { serverName: "test", toolName: "hang", input: {} },
        { servers, timeoutMs: 50 },
      );
      expect(timedOut.error).toMatchObject({ reason: "timeout" });
      const controller = new AbortController();
      const pending = executeBuiltinTool(
        contextFor(db, newId(), controller.signal),
        { serverName: "test", toolName: "hang", input: {} },
        { servers },
      );
      setTimeout(() => controller.abort(), 20);
      const cancelled = await pending;
      expect(cancelled.error).toMatchObject({ reason: "cancelled" });
      expect((await rowOf(db, cancelled.executionId))?.status).toBe("failed");
    });
  });

  it("stores an output over 64 KiB cut, and still returns it whole", async () => {
    const { tenant } = await createTenant();
    const big = "é".repeat(40_000);
    await withTenantDb(tenant.id, async (db) => {
      const result = await executeBuiltinTool(
        contextFor(db, newId()),
        { serverName: "test", toolName: "echo", input: { value: big } },
        { servers },
      );
      expect(result.output).toEqual({ value: big });
      const row = await rowOf(db, result.executionId);
      const fullBytes = bytesOf({ value: big });
      expect(row?.outputBytes).toBe(fullBytes);
      const stored = row?.output as { truncated: boolean; bytes: number; preview: string };
      expect(stored).toMatchObject({ truncated: true, bytes: fullBytes });
      expect(new TextEncoder().encode(stored.preview).byteLength).toBeLessThanOrEqual(
        MAX_RECORDED_JSON_BYTES,
      );
      expect(JSON.stringify({ value: big }).startsWith(stored.preview)).toBe(true);
    });
  });

  it("stores a NUL character as U+FFFD, which jsonb cannot hold", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const result = await executeBuiltinTool(
        contextFor(db, newId()),
        { serverName: "test", toolName: "echo", input: { value: "a\u0000b" } },
        { servers },
      );
      expect(result.output).toEqual({ value: "a\u0000b" });
      expect((await rowOf(db, result.executionId))?.output).toEqual({ value: "a\uFFFDb" });
    });
  });

  it("throws UnknownToolError for an unknown server or tool, recording nothing", async () => {
    const { tenant } = await createTenant();
    await withTenantDb(tenant.id, async (db) => {
      const ctx = contextFor(db, newId());
      await expect(
        executeBuiltinTool(ctx, { serverName: "nope", toolName: "echo", input: {} }, { servers }),
      ).rejects.toMatchObject({ name: "UnknownToolError", toolName: null });
      await expect(
        executeBuiltinTool(ctx, { serverName: "test", toolName: "nope", input: {} }, { servers }),
      ).rejects.toBeInstanceOf(UnknownToolError);
      // The default registry: the built-in servers.
      await expect(
        executeBuiltinTool(ctx, { serverName: "test", toolName: "echo", input: {} }),
      ).rejects.toBeInstanceOf(UnknownToolError);
      expect(
        await db
          .select()
          .from(mcpToolExecutions)
          .where(and(eq(mcpToolExecutions.tenantId, tenant.id))),
      ).toEqual([]);
    });
  });
});
