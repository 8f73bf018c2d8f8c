import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNull, lt, type SQL } from "drizzle-orm";
import { documents } from "../../../db/schema/rag";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { documentSchema, documentStatus, toDocumentResponse } from "./schemas";

const query = pageQuery.extend({
  collectionId: z.string().uuid().optional().openapi({ description: "Only this collection's documents." }),
  status: documentStatus.optional().openapi({ description: "Only documents in this stage, e.g. `failed`." }),
});

const page = pageOf(documentSchema, "DocumentPage");
export type ListDocumentsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listDocuments",
  tags: ["knowledge-bases"],
  method: "get",
  path: "/v1/rag/documents",
  summary: "List documents, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of documents.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListDocuments(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:read");
    const { limit, cursor, collectionId, status } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [eq(documents.tenantId, db.tenantId), isNull(documents.deletedAt)];
    if (after) filters.push(lt(documents.id, after));
    if (collectionId) filters.push(eq(documents.collectionId, collectionId));
    if (status) filters.push(eq(documents.status, status));
    const rows = await db
      .select()
      .from(documents)
      .where(and(...filters))
      .orderBy(desc(documents.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toDocumentResponse), nextCursor }, 200);
  });
}
