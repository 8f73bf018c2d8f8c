import { createRoute, z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import { documents } from "../../../db/schema/rag";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadDocument } from "./load";
import { failedDocuments, requeueDocuments } from "./requeue";
import { documentSchema, toDocumentResponse } from "./schemas";

const params = z.object({ id: uuidParam("id", "document") });
const accepted = {
  description: "Queued again.",
  content: { "application/json": { schema: documentSchema } },
};

const retryRoute = createRoute({
  operationId: "retryDocument",
  tags: ["knowledge-bases"],
  method: "post",
  path: "/v1/rag/documents/{id}/retry",
  summary: "Retry a failed document",
  description: "Only a `failed` document (409 otherwise). Starts a new generation from the stored original.",
  security: [{ bearer: [] }],
  request: { params },
  responses: { 202: accepted, ...problemResponses(400, 401, 403, 404, 409, 429, 500) },
});

const reingestRoute = createRoute({
  operationId: "reingestDocument",
  tags: ["knowledge-bases"],
  method: "post",
  path: "/v1/rag/documents/{id}/reingest",
  summary: "Ingest a document again",
  description:
    "In any state: parses, chunks and embeds the stored original again with the collection's current " +
    "chunking settings. Its chunks are replaced in one step when the new ones are ready; until then " +
    "search keeps finding the old ones.",
  security: [{ bearer: [] }],
  request: { params },
  responses: { 202: accepted, ...problemResponses(400, 401, 403, 404, 429, 500) },
});

const bulkBody = z
  .object({
    collectionId: z.string().uuid().optional(),
    documentIds: z.array(z.string().uuid()).min(1).max(1000).optional(),
  })
  .strict()
  .refine((b) => b.collectionId !== undefined || b.documentIds !== undefined, {
    message: "name a collectionId or documentIds",
  })
  .openapi("RetryDocumentsRequest");
const bulkResponse = z
  .object({ retried: z.number().int(), documentIds: z.array(z.string().uuid()) })
  .openapi("RetryDocumentsResponse");
export type RetryDocumentsResponse = z.infer<typeof bulkResponse>;

/** Failed documents one bulk retry re-queues at most; call again for the rest. */
const BULK_LIMIT = 1000;

const bulkRoute = createRoute({
  operationId: "retryDocuments",
  tags: ["knowledge-bases"],
  method: "post",
  path: "/v1/rag/documents/retry",
  summary: "Retry failed documents in bulk",
  description: `Re-queues the failed documents among \`documentIds\` and/or in \`collectionId\` (at most ${BULK_LIMIT} per call).`,
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: bulkBody } } } },
  responses: {
    202: { description: "What was re-queued.", content: { "application/json": { schema: bulkResponse } } },
    ...problemResponses(400, 401, 403, 413, 415, 429, 500),
  },
});

export function registerRetryDocumentRoutes(app: App) {
  app.openapi(retryRoute, async (c) => {
    authorize(c, "rag:write");
    const db = c.get("db");
    const current = await loadDocument(db, c.req.valid("param").id, { forUpdate: true });
    if (current.status !== "failed") {
      throw new ApiError("CONFLICT", {
        detail: `The document is ${current.status}, not failed; use reingest to process it again.`,
      });
    }
    const [row] = await requeueDocuments(c, db, eq(documents.id, current.id));
    if (!row) throw new Error("retry: requeue returned no row");
    await audit(c, { action: "document.retry", resourceType: "document", resourceId: row.id, changes: {} });
    return c.json(toDocumentResponse(row), 202);
  });

  app.openapi(reingestRoute, async (c) => {
    authorize(c, "rag:write");
    const db = c.get("db");
    const current = await loadDocument(db, c.req.valid("param").id, { forUpdate: true });
    const [row] = await requeueDocuments(c, db, eq(documents.id, current.id));
    if (!row) throw new Error("reingest: requeue returned no row");
    await audit(c, {
      action: "document.reingest",
      resourceType: "document",
      resourceId: row.id,
      changes: {},
    });
    return c.json(toDocumentResponse(row), 202);
  });

  app.openapi(bulkRoute, async (c) => {
    authorize(c, "rag:write");
    const db = c.get("db");
    const filter = c.req.valid("json");
    const target = db
      .select({ id: documents.id })
      .from(documents)
      .where(failedDocuments(filter))
      .orderBy(documents.id)
      .limit(BULK_LIMIT)
      .for("update");
    const rows = await requeueDocuments(c, db, sql`${documents.id} in (${target})`);
    if (rows.length > 0) {
      await audit(c, {
        action: "document.retry_bulk",
        resourceType: filter.collectionId ? "collection" : "document",
        resourceId: filter.collectionId ?? "bulk",
        changes: { documentIds: rows.map((r) => r.id) },
      });
    }
    return c.json({ retried: rows.length, documentIds: rows.map((r) => r.id) }, 202);
  });
}
