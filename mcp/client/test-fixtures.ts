import { env } from "cloudflare:workers";
import { mcpServers } from "../../db/schema/mcp";
import type { TenantDb } from "../../db/tenant";
import type { FakeMcpRequest } from "../../scripts/local-stack/fake-mcp-server";
import { parseConfig } from "../../workers/env";
import { newId } from "../../workers/lib/ids";
import { putSecret } from "../../workers/lib/secrets";
import { withTenantDb } from "../../workers/routes/conversations/test-fixtures";
import type { McpToolContext } from "../server/types";
import { encodeInlineCredential, type InlineCredential, managedSecretName } from "./credentials";
import type { McpServerRow } from "./types";

/** The fake remote MCP server the global setup starts (scripts/local-stack/fake-mcp-server.ts). */
export const FAKE_MCP_URL = (env as unknown as { FAKE_MCP_URL: string }).FAKE_MCP_URL;

export interface FakeScope {
  /** Base URL of the scope: append `/mcp`, `/sse`, `/garbage`, ... */
  base: string;
  /** Requests the fake server received in this scope. */
  count(): Promise<number>;
  requests(): Promise<FakeMcpRequest[]>;
}

/**
 * A scope of its own on the fake server, so a test counts only the requests it caused (test
 * files run at the same time against one fake server).
 *
 * @example
 * const fake = fakeScope();
 * await register({ url: `${fake.base}/mcp` });
 * expect(await fake.count()).toBe(0);
 */
export function fakeScope(): FakeScope {
  const scope = crypto.randomUUID();
  return {
    base: `${FAKE_MCP_URL}/s/${scope}`,
    async count() {
      const res = await fetch(`${FAKE_MCP_URL}/__count?scope=${scope}`);
      return ((await res.json()) as { count: number }).count;
    },
    async requests() {
      const res = await fetch(`${FAKE_MCP_URL}/__requests?scope=${scope}`);
      return ((await res.json()) as { requests: FakeMcpRequest[] }).requests;
    },
  };
}

export const testConfig = () => parseConfig(env);

/**
 * Test-only: runs `fn` with a tool context of the tenant's owner in a tenant transaction of its
 * own (committed when `fn` resolves), as a route or the agent runtime would provide it.
 */
export function withToolContext<T>(
  tenantId: string,
  userId: string,
  fn: (ctx: McpToolContext) => Promise<T>,
): Promise<T> {
  return withTenantDb(tenantId, (db) =>
    fn({
      tenantId,
      principal: {
        kind: "user",
        tenantId,
        userId,
        role: "owner",
        sessionId: crypto.randomUUID(),
        jti: crypto.randomUUID(),
        expiresAt: Math.floor(Date.now() / 1000) + 900,
      },
      db,
      config: testConfig(),
      env,
      signal: new AbortController().signal,
    }),
  );
}

/**
 * Test-only: inserts a server row directly (no URL check), with an inline credential stored the
 * way the routes store it when `inline` is given.
 */
export async function insertServer(
  tenantId: string,
  values: Partial<Omit<McpServerRow, "tenantId">> & { url: string },
  inline?: InlineCredential,
): Promise<McpServerRow> {
  return withTenantDb(tenantId, async (db: TenantDb) => {
    const id = values.id ?? newId();
    let authSecretName = values.authSecretName ?? null;
    if (inline) {
      authSecretName = managedSecretName(id);
      await putSecret(db, testConfig(), authSecretName, encodeInlineCredential(inline));
    }
    const [row] = await db
      .insert(mcpServers)
      // The random end of the id: its start is a timestamp, shared by servers made in the same moment.
      .values({ name: `srv-${id.slice(-12)}`, ...values, id, tenantId, authSecretName })
      .returning();
    if (!row) throw new Error("server insert returned no row");
    return row;
  });
}
