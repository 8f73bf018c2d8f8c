import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { collections } from "../../../../db/schema/rag";
import { defineTool } from "../../../server/types";
import { requirePermission } from "../access";

/** Most collections one call lists; `truncated` says when the tenant has more. */
export const MAX_LISTED_COLLECTIONS = 500;

export const listCollections = defineTool({
  name: "list_collections",
  title: "List knowledge bases",
  description:
    "Lists this tenant's knowledge-base collections by name: id, name and description. Pass ids to " +
    `search_knowledge_base. At most ${MAX_LISTED_COLLECTIONS}; truncated says when there are more.`,
  input: z.strictObject({}),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run(_input, { db, principal }) {
    requirePermission(principal, "rag:read");
    const rows = await db
      .select({ id: collections.id, name: collections.name, description: collections.description })
      .from(collections)
      .where(and(eq(collections.tenantId, db.tenantId), isNull(collections.deletedAt)))
      .orderBy(asc(collections.name), asc(collections.id))
      .limit(MAX_LISTED_COLLECTIONS + 1);
    return {
      collections: rows.slice(0, MAX_LISTED_COLLECTIONS),
      truncated: rows.length > MAX_LISTED_COLLECTIONS,
    };
  },
});
