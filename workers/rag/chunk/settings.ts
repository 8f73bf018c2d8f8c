import { z } from "@hono/zod-openapi";

/**
 * How a collection cuts its documents into chunks. Stored on the collection; changing it
 * means re-chunking (and re-embedding) the documents, so the defaults are chosen to suit most
 * prose: leaves small enough to match a focused question, parents big enough to answer it.
 */
export const chunkingSettingsSchema = z
  .object({
    chunkTokens: z.number().int().min(64).max(2048).default(400).openapi({
      description:
        "Most tokens (estimated) in a searched chunk. Smaller chunks match narrow questions better but carry less context. Default 400.",
      example: 400,
    }),
    overlapTokens: z.number().int().min(0).max(512).default(50).openapi({
      description:
        "Tokens each chunk repeats from the end of the one before, so a sentence cut at a boundary is still found whole. Must be less than chunkTokens. Default 50.",
      example: 50,
    }),
    parentTokens: z.number().int().min(256).max(8192).nullable().default(1600).openapi({
      description:
        "Most tokens in a parent: the section (or window of one) returned as context around the chunks that matched. Must be more than chunkTokens; null for flat chunks without parents. Default 1600.",
      example: 1600,
    }),
  })
  .strict()
  .refine((settings) => settings.overlapTokens < settings.chunkTokens, {
    path: ["overlapTokens"],
    message: "overlapTokens must be less than chunkTokens",
  })
  .refine((settings) => settings.parentTokens === null || settings.parentTokens > settings.chunkTokens, {
    path: ["parentTokens"],
    message: "parentTokens must be more than chunkTokens (or null)",
  })
  .openapi("ChunkingSettings", { example: { chunkTokens: 400, overlapTokens: 50, parentTokens: 1600 } });

export type ChunkingSettings = z.infer<typeof chunkingSettingsSchema>;

/** The settings a collection gets when it names none. */
export const DEFAULT_CHUNKING: ChunkingSettings = chunkingSettingsSchema.parse({});
