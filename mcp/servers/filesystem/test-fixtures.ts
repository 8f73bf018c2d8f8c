import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { createTenant } from "../../../test/harness/fixtures";
import type { Role } from "../../../workers/auth/roles";
import { parseConfig } from "../../../workers/env";
import { withTenantDb } from "../../../workers/routes/conversations/test-fixtures";
import type { McpTool, McpToolContext } from "../../server/types";

export interface Caller {
  tenantId: string;
  userId: string;
  role?: Role;
}

/** A fresh tenant's owner, to call tools as. */
export async function newCaller(): Promise<Caller> {
  const { tenant, owner } = await createTenant();
  return { tenantId: tenant.id, userId: owner.id };
}

/**
 * The first tenant of a test file pays the isolate's cold start (the Worker, its database
 * connections), which can take most of a test's 20 s timeout on a busy machine: pay it in a
 * `beforeAll`, under the hook timeout, instead.
 */
export async function warmUp(): Promise<void> {
  await newCaller();
}

/**
 * Test-only: runs one tool the way the framework does, in its own tenant-scoped transaction
 * (committed when the tool returns, rolled back when it throws): the input is parsed by the
 * tool's schema first, then `run` gets a context built from `caller`.
 *
 * @example
 * const file = await callTool(readFile, { path: "/a.md" }, { tenantId, userId });
 */
export async function callTool<T = Record<string, unknown>>(
  tool: McpTool,
  input: unknown,
  caller: Caller,
  opts: { signal?: AbortSignal } = {},
): Promise<T> {
  return withTenantDb(caller.tenantId, async (db) => {
    const ctx: McpToolContext = {
      tenantId: caller.tenantId,
      principal: {
        kind: "user",
        tenantId: caller.tenantId,
        userId: caller.userId,
        role: caller.role ?? "owner",
        sessionId: crypto.randomUUID(),
        jti: crypto.randomUUID(),
        expiresAt: Math.floor(Date.now() / 1000) + 900,
      },
      db,
      config: parseConfig(env),
      env,
      signal: opts.signal ?? new AbortController().signal,
    };
    return (await tool.run(tool.input.parse(input), ctx)) as T;
  });
}

/** Asserts that a tool call is refused with a `ToolError` of the given reason. */
export async function expectToolError(call: Promise<unknown>, reason: string): Promise<void> {
  await expect(call).rejects.toMatchObject({ name: "ToolError", reason });
}

/**
 * Test-only: inserts `count` empty files `${dir}/f00001`... in one statement, for the limits
 * that would take thousands of tool calls to reach. `dir` must exist (or be `""` for the root).
 */
export async function seedFiles(
  tenantId: string,
  dir: string,
  count: number,
  opts: { sizeBytes?: number } = {},
): Promise<void> {
  await withTenantDb(tenantId, (db) =>
    db.execute(sql`
      insert into mcp_files (id, tenant_id, path, kind, content, size_bytes)
      select gen_random_uuid(), ${tenantId}::uuid, ${dir}::text || '/f' || lpad(g::text, 5, '0'), 'file', '',
             ${opts.sizeBytes ?? 0}::int
        from generate_series(1, ${count}::int) g`),
  );
}
