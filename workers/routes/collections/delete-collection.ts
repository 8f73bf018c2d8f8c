import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull, sql } from "drizzle-orm";
import { collections, documents } from "../../../db/schema/rag";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { invalidateCollection } from "../../cache/collections";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { afterCommit } from "../../middleware/tenant-db";
import { loadCollection } from "./load";

const route = createRoute({
  operationId: "deleteCollection",
  tags: ["knowledge-bases"],
  method: "delete",
  path: "/v1/rag/collections/{id}",
  summary: "Delete a collection and its documents",
  description:
    "The collection and its documents leave search at once and the documents' originals are removed " +
    "from storage; their rows and chunks are removed for good by the retention purge, and pending " +
    "ingestion of them stops.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "collection") }) },
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerDeleteCollection(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:write");
    const db = c.get("db");
    const row = await loadCollection(db, c.req.valid("param").id, { forUpdate: true });
    invalidateCollection(c, row.id);
    await db.update(collections).set({ deletedAt: sql`now()` }).where(eq(collections.id, row.id));
    const removed = await db
      .update(documents)
      .set({ deletedAt: sql`now()` })
      .where(and(eq(documents.collectionId, row.id), isNull(documents.deletedAt)))
      .returning({ id: documents.id, storageKey: documents.storageKey });
    const originals = removed.flatMap((d) => (d.storageKey ? [d.storageKey] : []));
    // After the commit, so a rolled-back delete keeps its originals; R2 takes 1,000 keys a call.
    afterCommit(c, async () => {
      for (let i = 0; i < originals.length; i += 1000)
        await c.env.DOCUMENTS.delete(originals.slice(i, i + 1000));
    });
    await audit(c, {
      action: "collection.delete",
      resourceType: "collection",
      resourceId: row.id,
      changes: { name: row.name, documents: removed.length },
    });
    return c.body(null, 204);
  });
}
