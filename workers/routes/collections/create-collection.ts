import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { collections } from "../../../db/schema/rag";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { enforceCountQuota } from "../../quotas/counts";
import { chunkingSettingsSchema, DEFAULT_CHUNKING } from "../../rag/chunk/settings";
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
    name: collectionName,
    description: collectionDescription.optional(),
    embedding: embeddingRequest.default({ provider: "local" }),
    chunking: chunkingSettingsSchema.optional(),
    metadata: collectionMetadata.optional(),
  })
  .strict()
  .openapi("CreateCollectionRequest");

const route = createRoute({
  operationId: "createCollection",
  tags: ["knowledge-bases"],
  method: "post",
  path: "/v1/rag/collections",
  summary: "Create a knowledge-base collection",
  description:
    "A collection fixes its embedding model and vector size once it holds documents; chunking " +
    "settings apply to documents ingested (or re-ingested) after a change.",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: collectionSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 429, 500),
  },
});

export function registerCreateCollection(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "rag:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    const embedding = resolveEmbedding(input.embedding);
    const [row] = await db
      .insert(collections)
      .values({
        tenantId: db.tenantId,
        name: input.name,
        description: input.description ?? null,
        embeddingProvider: embedding.provider,
        embeddingModel: embedding.model,
        embeddingDim: embedding.dimensions,
        chunking: input.chunking ?? DEFAULT_CHUNKING,
        metadata: input.metadata ?? {},
        createdBy: principalId(caller),
      })
      .onConflictDoNothing({
        target: [collections.tenantId, collections.name],
        where: sql`${collections.deletedAt} is null`,
      })
      .returning();
    if (!row)
      throw new ApiError("CONFLICT", { detail: `A collection named "${input.name}" already exists.` });
    await enforceCountQuota(db, "collections");
    await audit(c, {
      action: "collection.create",
      resourceType: "collection",
      resourceId: row.id,
      changes: { name: row.name, embedding },
    });
    return c.json(toCollectionResponse(row), 201, { location: `/v1/rag/collections/${row.id}` });
  });
}
