import { createRoute, z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import { chunks, documents } from "../../../db/schema/rag";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { afterCommit } from "../../middleware/tenant-db";
import { loadDocument } from "./load";

const route = createRoute({
  operationId: "deleteDocument",
  tags: ["knowledge-bases"],
  method: "delete",
  path: "/v1/rag/documents/{id}",
  summary: "Delete a document",
  description:
    "Its chunks leave search at once and its original is removed from storage; pending ingestion of it " +
    "stops. The same bytes can then be uploaded again.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "document") }) },
  responses: { 204: { description: "Deleted." }, ...problemResponses(400, 401, 403, 404, 429, 500) },
});

export function registerDeleteDocument(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:write");
    const db = c.get("db");
    const row = await loadDocument(db, c.req.valid("param").id, { forUpdate: true });
    await db.update(documents).set({ deletedAt: sql`now()`, content: null }).where(eq(documents.id, row.id));
    await db.delete(chunks).where(eq(chunks.documentId, row.id));
    const { storageKey } = row;
    // After the commit: a rolled-back delete must still find its original.
    if (storageKey) afterCommit(c, () => c.env.DOCUMENTS.delete(storageKey));
    await audit(c, {
      action: "document.delete",
      resourceType: "document",
      resourceId: row.id,
      changes: { collectionId: row.collectionId },
    });
    return c.body(null, 204);
  });
}
