import { env } from "cloudflare:workers";
import type { Client } from "@neondatabase/serverless";
import { expect, inject } from "vitest";
import { connect } from "../../../db/client";
import { type Config, parseConfig } from "../../../workers/env";
import { putSecret } from "../../../workers/lib/secrets";
import { withTenantDb } from "../../../workers/routes/conversations/test-fixtures";
import type { McpTool, McpToolContext } from "../../server/types";

/** The Worker's configuration under test, with `overrides` on top. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...parseConfig(env), ...overrides };
}

/**
 * Test-only: runs one tool the way the framework does: the input parsed by the tool's schema,
 * then `run` inside a tenant-scoped transaction of the test's own connection.
 *
 * @example
 * const result = await callTool<QueryResult>(query, { sql: "select 1" }, tenantId);
 */
export async function callTool<T = Record<string, unknown>>(
  tool: McpTool,
  input: unknown,
  tenantId: string,
  opts: { config?: Partial<Config>; signal?: AbortSignal } = {},
): Promise<T> {
  return withTenantDb(tenantId, async (db) => {
    const ctx: McpToolContext = {
      tenantId,
      principal: { kind: "api_key", tenantId, keyId: crypto.randomUUID(), role: "member" },
      db,
      config: testConfig(opts.config),
      env,
      signal: opts.signal ?? new AbortController().signal,
    };
    return (await tool.run(tool.input.parse(input), ctx)) as T;
  });
}

/** Asserts that a tool call fails with a `ToolError` of `reason` (and a message matching `message`). */
export async function expectToolError(
  call: Promise<unknown>,
  reason: string,
  message?: RegExp,
): Promise<void> {
  await expect(call).rejects.toMatchObject({ name: "ToolError", reason, ...(message ? { message } : {}) });
}

/** Stores `url` as the tenant's secret `name`, as `PUT /v1/secrets/{name}` would. */
export async function putConnection(tenantId: string, name: string, url: string): Promise<void> {
  await withTenantDb(tenantId, (db) => putSecret(db, testConfig(), name, url));
}

/** `url` with its database (path) replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** `url` with its user and password replaced. */
export function withUser(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
}

/** The database name in a postgres:// URL. */
export function databaseOf(url: string): string {
  return new URL(url).pathname.slice(1);
}

/** URL of the test database as its owner (`meridian_owner`): a role that can write every table. */
export const ownerUrl = (): string => inject("ownerDatabaseUrl");

/** The sample database's URL as the Worker gets it. */
export const sampleUrl = (): string => testConfig().SAMPLE_DATABASE_URL as string;

/**
 * Test-only: a connection to `url` through the relay, outside any read-only transaction, for
 * setting up and inspecting what the tools must not change.
 */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect({ DATABASE_URL: url, NEON_WS_PROXY: testConfig().NEON_WS_PROXY });
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
