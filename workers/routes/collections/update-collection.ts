import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull, ne } from "drizzle-orm";
import { collections } from "../../../db/schema/rag";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { invalidateCollection } from "../../cache/collections";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { chunkingSettingsSchema } from "../../rag/chunk/settings";
import { hasDocuments, loadCollection } from "./load";
import {
  collectionDescription,
  collectionMetadata,
  collectionName,
  collectionSchema,
  embeddingRequest,
  resolveEmbedding,
  toCollectionResponse,
} from "./schemas";

const body = z
  .object({
    name: collectionName.optional(),
    description: collectionDescription.optional(),
    embedding: embeddingRequest.optional().openapi({
      description:
        "Only while the collection holds no documents (409 otherwise): stored vectors would not match.",
    }),
    chunking: chunkingSettingsSchema.optional().openapi({
      description: "Applies to documents ingested from now on; re-ingest a document to re-chunk it.",
    }),
    metadata: collectionMetadata.optional(),
  })
  .strict()
  .openapi("UpdateCollectionRequest");

const route = createRoute({
  operationId: "updateCollection",
  tags: ["knowledge-bases"],
  method: "patch",
  path: "/v1/rag/collections/{id}",
  summary: "Change a collection",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "collection") }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: { description: "Updated.", content: { "application/json": { schema: collectionSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429, 500),
  },
});

export function registerUpdateCollection(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    const current = await loadCollection(db, c.req.valid("param").id, { forUpdate: true });
    const embedding = input.embedding ? resolveEmbedding(input.embedding) : undefined;
    const embeddingChanges =
      embedding &&
      (embedding.provider !== current.embeddingProvider ||
        embedding.model !== current.embeddingModel ||
        embedding.dimensions !== current.embeddingDim);
    if (embeddingChanges && (await hasDocuments(db, current.id))) {
      throw new ApiError("CONFLICT", {
        detail:
          "The collection holds documents: its embedding model and size are fixed. Create a new collection.",
      });
    }
    if (input.name !== undefined && input.name !== current.name) {
      const [taken] = await db
        .select({ id: collections.id })
        .from(collections)
        .where(
          and(
            eq(collections.name, input.name),
            isNull(collections.deletedAt),
            ne(collections.id, current.id),
          ),
        )
        .limit(1);
      if (taken)
        throw new ApiError("CONFLICT", { detail: `A collection named "${input.name}" already exists.` });
    }
    invalidateCollection(c, current.id);
    const [row] = await db
      .update(collections)
      .set({
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.chunking !== undefined && { chunking: input.chunking }),
        ...(input.metadata !== undefined && { metadata: input.metadata }),
        ...(embedding && {
          embeddingProvider: embedding.provider,
          embeddingModel: embedding.model,
          embeddingDim: embedding.dimensions,
        }),
      })
      .where(eq(collections.id, current.id))
      .returning();
    if (!row) throw new Error("collection update returned no row");
    await audit(c, {
      action: "collection.update",
      resourceType: "collection",
      resourceId: row.id,
      changes: Object.fromEntries(Object.keys(input).map((key) => [key, true])),
    });
    return c.json(toCollectionResponse(row), 200);
  });
}
