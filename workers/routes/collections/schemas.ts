import { z } from "@hono/zod-openapi";
import {
  type collections,
  DOCUMENT_STATUSES,
  EMBEDDING_DIMS,
  type EmbeddingDim,
} from "../../../db/schema/rag";
import { ApiError } from "../../lib/errors";
import { iso, metadata, timestamp } from "../../lib/schemas";
import { chunkingSettingsSchema } from "../../rag/chunk/settings";
import { LOCAL_EMBEDDING_MODEL } from "../../rag/embed/local";
import { EMBEDDING_PROVIDERS, type EmbeddingProviderName } from "../../rag/embed/types";

/** The model a provider gets when a collection names none. */
const DEFAULT_MODELS: Record<EmbeddingProviderName, { model: string; dimensions: EmbeddingDim }> = {
  local: { model: LOCAL_EMBEDDING_MODEL, dimensions: 384 },
  voyage: { model: "voyage-3.5-lite", dimensions: 1024 },
  openai: { model: "text-embedding-3-small", dimensions: 1536 },
  "workers-ai": { model: "@cf/baai/bge-small-en-v1.5", dimensions: 384 },
};

export const collectionName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .openapi({ description: "Unique among the tenant's live collections.", example: "support-handbook" });

export const collectionDescription = z.string().max(2000).nullable();

const dimensions = z
  .number()
  .int()
  .refine((v): v is EmbeddingDim => (EMBEDDING_DIMS as readonly number[]).includes(v), {
    message: `must be one of ${EMBEDDING_DIMS.join(", ")}`,
  })
  .openapi({
    description: `Vector size; one of ${EMBEDDING_DIMS.join(", ")} (each has its own HNSW index).`,
  });

/** As a request names it; `resolveEmbedding` fills the defaults. */
export const embeddingRequest = z
  .object({
    provider: z
      .enum(EMBEDDING_PROVIDERS)
      .default("local")
      .openapi({
        description:
          "`local` is the offline model (no key, no network; for development and tests). `voyage`, " +
          "`openai` (any OpenAI-compatible endpoint) and `workers-ai` use the operator's configured credentials.",
      }),
    model: z.string().min(1).max(200).optional().openapi({ description: "Defaults per provider." }),
    dimensions: dimensions.optional().openapi({ description: "Defaults to the model's usual size." }),
  })
  .strict()
  .openapi("EmbeddingChoice");

export interface ResolvedEmbedding {
  provider: EmbeddingProviderName;
  model: string;
  dimensions: EmbeddingDim;
}

/**
 * Fills a request's embedding choice with its provider's default model and size.
 *
 * @throws ApiError VALIDATION_FAILED when a model other than the default comes without its size.
 */
export function resolveEmbedding(input: z.infer<typeof embeddingRequest>): ResolvedEmbedding {
  const defaults = DEFAULT_MODELS[input.provider];
  const model = input.model ?? defaults.model;
  const dims = input.dimensions ?? (model === defaults.model ? defaults.dimensions : undefined);
  if (dims === undefined) {
    throw new ApiError("VALIDATION_FAILED", {
      detail: "Name the model's vector size: only the default model's is known.",
      errors: [{ path: "embedding.dimensions", message: "required with a non-default model" }],
    });
  }
  return { provider: input.provider, model, dimensions: dims as EmbeddingDim };
}

export const collectionSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string().nullable(),
    embedding: z.object({
      provider: z.enum(EMBEDDING_PROVIDERS),
      model: z.string(),
      dimensions: z.number().int(),
    }),
    chunking: chunkingSettingsSchema,
    metadata: z.record(z.string(), z.unknown()),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("Collection");

export const collectionStatsSchema = z
  .object({
    documents: z.record(z.enum(DOCUMENT_STATUSES), z.number().int()).openapi({
      description: "Live documents by ingestion status.",
      example: { queued: 0, parsing: 0, chunking: 0, embedding: 1, indexed: 42, failed: 1 },
    }),
    chunks: z.number().int().openapi({ description: "Chunks of live documents (leaves and parents)." }),
  })
  .openapi("CollectionStats");

export const collectionWithStatsSchema = collectionSchema
  .extend({ stats: collectionStatsSchema })
  .openapi("CollectionWithStats");

export const collectionMetadata = metadata;

type CollectionRow = typeof collections.$inferSelect;

export function toCollectionResponse(row: CollectionRow): z.infer<typeof collectionSchema> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    embedding: {
      provider: row.embeddingProvider as EmbeddingProviderName,
      model: row.embeddingModel,
      dimensions: row.embeddingDim,
    },
    chunking: chunkingSettingsSchema.parse(row.chunking),
    metadata: row.metadata,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
