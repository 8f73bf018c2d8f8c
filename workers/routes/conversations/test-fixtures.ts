import { env } from "cloudflare:workers";
import { connect } from "../../../db/client";
import { conversations, messages } from "../../../db/schema";
import { type TenantDb, withTenant } from "../../../db/tenant";
import type { Conversation, Message } from "../../../db/types";

/**
 * Test-only: a tenant-scoped transaction on a connection of the test's own, as the app role
 * and under RLS like a request. For rows no route writes yet (conversations come from runs)
 * and for looking at what a route stored (ciphertext).
 *
 * @example
 * const rows = await withTenantDb(tenant.id, (db) => db.select().from(tenantSecrets));
 */
export async function withTenantDb<T>(tenantId: string, fn: (db: TenantDb) => Promise<T>): Promise<T> {
  const bindings = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string };
  const client = await connect({
    DATABASE_URL: bindings.DATABASE_URL,
    NEON_WS_PROXY: bindings.NEON_WS_PROXY,
  });
  try {
    return await withTenant(client, tenantId, fn);
  } finally {
    await client.end();
  }
}

/**
 * Inserts a conversation with `messageCount` alternating user/assistant messages
 * (sequence 1..n) for `agentId`, which must be an agent of the tenant.
 */
export async function insertConversation(
  tenantId: string,
  agentId: string,
  opts: { title?: string; messageCount?: number } = {},
): Promise<{ conversation: Conversation; messages: Message[] }> {
  return withTenantDb(tenantId, async (db) => {
    const [conversation] = await db
      .insert(conversations)
      .values({ tenantId, agentId, title: opts.title ?? null, metadata: { source: "fixture" } })
      .returning();
    if (!conversation) throw new Error("conversation insert returned no row");
    const count = opts.messageCount ?? 0;
    const rows =
      count === 0
        ? []
        : await db
            .insert(messages)
            .values(
              Array.from({ length: count }, (_, i) => ({
                tenantId,
                conversationId: conversation.id,
                sequence: i + 1,
                role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
                content: [{ type: "text", text: `message ${i + 1}` }],
                model: i % 2 === 0 ? null : "claude-sonnet-4-6",
                inputTokens: i % 2 === 0 ? null : 10 + i,
                outputTokens: i % 2 === 0 ? null : 5 + i,
              })),
            )
            .returning();
    return { conversation, messages: rows };
  });
}
