import { z } from "@hono/zod-openapi";
import { searchFilter } from "../../rag/search/filters";
import { DEFAULT_TOP_K, MAX_TOP_K, SEARCH_MODES, type SearchHit } from "../../rag/search/search";

export const MAX_SEARCH_COLLECTIONS = 10;
export const MAX_QUERY_CHARS = 2000;

export const searchModeSchema = z.enum(SEARCH_MODES).openapi({
  description:
    "`vector` (embedding similarity: meaning, paraphrase), `fulltext` (English stemmed keywords, " +
    '`websearch_to_tsquery` syntax: `"exact phrase"`, `or`, `-word`) or `hybrid` (both, fused by ' +
    "reciprocal rank fusion, k = 60).",
  example: "hybrid",
});

export const ragSearchRequestSchema = z
  .object({
    query: z.string().trim().min(1).max(MAX_QUERY_CHARS).openapi({
      description: "What to look for, in natural language.",
      example: "How do I rotate an API key?",
    }),
    collectionIds: z
      .array(z.string().uuid())
      .min(1)
      .max(MAX_SEARCH_COLLECTIONS)
      .openapi({
        description: `The collections to search (1-${MAX_SEARCH_COLLECTIONS}); each must be a live collection of the tenant.`,
        example: ["0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d"],
      }),
    mode: searchModeSchema.default("hybrid"),
    topK: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOP_K)
      .default(DEFAULT_TOP_K)
      .openapi({ description: `Hits to return (1-${MAX_TOP_K}).`, example: DEFAULT_TOP_K }),
    minScore: z
      .number()
      .min(-1)
      .max(1)
      .optional()
      .openapi({
        description:
          "Drop hits scoring below this, on the mode's scale (`score`): cosine similarity (-1 to 1) for " +
          "`vector`, normalised rank ([0, 1)) for `fulltext`, the fused RRF score for `hybrid` (at most " +
          "2/61, about 0.033, for a chunk both methods rank first).",
        example: 0.3,
      }),
    filter: searchFilter.optional(),
    includeParents: z.boolean().default(true).openapi({
      description: "Return each hit's parent passage (the wider text its chunk was cut from), if it has one.",
    }),
  })
  .strict()
  .openapi("RagSearchRequest");
export type RagSearchRequest = z.infer<typeof ragSearchRequestSchema>;

const offset = z
  .number()
  .int()
  .nullable()
  .openapi({ description: "Character offset in the extracted text." });

export const ragSearchHitSchema = z
  .object({
    chunkId: z.string().uuid(),
    documentId: z.string().uuid(),
    collectionId: z.string().uuid(),
    content: z.string().openapi({ description: "The matching chunk's text." }),
    score: z
      .number()
      .openapi({ description: "The mode's score (see `minScore`); higher is better.", example: 0.71 }),
    rank: z.number().int().openapi({ description: "1-based position.", example: 1 }),
    startOffset: offset,
    endOffset: offset,
    page: z.number().int().nullable().openapi({ description: "Page of a paged source (PDF), from 1." }),
    metadata: z
      .record(z.string(), z.unknown())
      .openapi({ description: "The document's metadata.", example: { lang: "en" } }),
    document: z.object({
      title: z.string().nullable(),
      source: z.string().nullable().openapi({ description: "URL or file name it came from." }),
      mimeType: z.string().nullable().openapi({ example: "text/markdown" }),
    }),
    parent: z
      .object({ chunkId: z.string().uuid(), content: z.string(), startOffset: offset, endOffset: offset })
      .nullable()
      .openapi({
        description: "The wider passage around the chunk; null without one or with `includeParents: false`.",
      }),
    scores: z
      .object({
        vector: z.number().nullable().openapi({ description: "Cosine similarity; null if not found by it." }),
        fulltext: z
          .number()
          .nullable()
          .openapi({ description: "Normalised `ts_rank_cd`; null if not found by it." }),
      })
      .openapi({ description: "Each method's own score, whatever the mode." }),
  })
  .openapi("RagSearchHit");

export const ragSearchResponseSchema = z
  .object({
    queryId: z.string().uuid().openapi({ description: "The recorded query (for evaluation and feedback)." }),
    mode: searchModeSchema,
    tookMs: z.number().int().openapi({ description: "Time spent searching, in milliseconds.", example: 23 }),
    hits: z.array(ragSearchHitSchema),
  })
  .openapi("RagSearchResponse");
export type RagSearchResponse = z.infer<typeof ragSearchResponseSchema>;

/** A hit as the API returns it, field by field. */
export function toHitResponse(hit: SearchHit): RagSearchResponse["hits"][number] {
  return {
    chunkId: hit.chunkId,
    documentId: hit.documentId,
    collectionId: hit.collectionId,
    content: hit.content,
    score: hit.score,
    rank: hit.rank,
    startOffset: hit.startOffset,
    endOffset: hit.endOffset,
    page: hit.page,
    metadata: hit.metadata,
    document: { title: hit.document.title, source: hit.document.source, mimeType: hit.document.mimeType },
    parent: hit.parent
      ? {
          chunkId: hit.parent.chunkId,
          content: hit.parent.content,
          startOffset: hit.parent.startOffset,
          endOffset: hit.parent.endOffset,
        }
      : null,
    scores: { vector: hit.scores.vector, fulltext: hit.scores.fulltext },
  };
}
