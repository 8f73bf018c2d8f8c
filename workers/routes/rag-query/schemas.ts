import { z } from "@hono/zod-openapi";
import { ragSearchHitSchema, ragSearchRequestSchema } from "../rag-search/schemas";

/** Chunks handed to the model at most: each is a citable document in its prompt. */
export const MAX_ANSWER_SOURCES = 20;

export const ragQueryRequestSchema = ragSearchRequestSchema
  .omit({ topK: true })
  .extend({
    topK: z
      .number()
      .int()
      .min(1)
      .max(MAX_ANSWER_SOURCES)
      .default(5)
      .openapi({ description: `Chunks retrieved and given to the model (1-${MAX_ANSWER_SOURCES}).` }),
    model: z.string().min(1).max(128).optional().openapi({
      description: "The model that answers; one the tenant may use. Defaults to claude-sonnet-4-6.",
      example: "claude-sonnet-4-6",
    }),
    maxTokens: z
      .number()
      .int()
      .min(1)
      .max(8192)
      .default(1024)
      .openapi({ description: "Longest answer, in tokens." }),
    stream: z.boolean().default(false).openapi({
      description:
        "Answer as server-sent events: `sources`, then `text_delta` and `citation` as they come, then `done`.",
    }),
  })
  .strict()
  .openapi("RagQueryRequest");
export type RagQueryRequest = z.infer<typeof ragQueryRequestSchema>;

export const chunkCitationSchema = z
  .object({
    answerStart: z.number().int().openapi({ description: "Where the cited claim starts in `answer`." }),
    answerEnd: z.number().int().openapi({ description: "Where it ends (exclusive)." }),
    citedText: z.string().openapi({ description: "The source text the claim rests on." }),
    chunkId: z.string().uuid(),
    documentId: z.string().uuid(),
    collectionId: z.string().uuid(),
    documentTitle: z.string().nullable(),
    startOffset: z.number().int().openapi({
      description:
        "Offset of `citedText` in the document's extracted text (`GET /v1/rag/documents/{id}?include=content`).",
    }),
    endOffset: z.number().int(),
    page: z.number().int().nullable(),
    verified: z.boolean().openapi({
      description:
        "The chunk holds `citedText` exactly at these offsets; false when the model's citation did not match.",
    }),
  })
  .openapi("ChunkCitation");

export const ragQueryResponseSchema = z
  .object({
    queryId: z.string().uuid(),
    answer: z.string(),
    citations: z.array(chunkCitationSchema),
    sources: z
      .array(ragSearchHitSchema)
      .openapi({ description: "The retrieved chunks the model was given, best first." }),
    model: z
      .string()
      .nullable()
      .openapi({ description: "Null when nothing was retrieved and no model was asked." }),
    usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() }),
    tookMs: z.number().int(),
  })
  .openapi("RagQueryResponse");
export type RagQueryResponse = z.infer<typeof ragQueryResponseSchema>;
