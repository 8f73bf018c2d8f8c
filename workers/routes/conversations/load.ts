import { and, eq, isNull } from "drizzle-orm";
import { conversations } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { Conversation } from "../../../db/types";
import { ApiError } from "../../lib/errors";

/**
 * A live conversation of the caller's tenant. Another tenant's id is absent under RLS, so it
 * answers 404 exactly like an id that never existed.
 *
 * @throws ApiError NOT_FOUND
 */
export async function loadConversation(db: TenantDb, id: string): Promise<Conversation> {
  const [conversation] = await db
    .select()
    .from(conversations)
    .where(
      and(eq(conversations.tenantId, db.tenantId), eq(conversations.id, id), isNull(conversations.deletedAt)),
    );
  if (!conversation) throw new ApiError("NOT_FOUND", { detail: `Conversation ${id} not found.` });
  return conversation;
}
