import { z } from "@hono/zod-openapi";
import { DOCUMENT_STATUSES, type documents } from "../../../db/schema/rag";
import { iso, metadata, timestamp } from "../../lib/schemas";
import { SUPPORTED_MIME_TYPES } from "../../rag/parse/types";

export const documentTitle = z.string().trim().min(1).max(500);
export const documentSource = z.string().trim().min(1).max(2000).openapi({
  description: "Where the document came from: a URL, a file name, a connector id.",
});
export const documentMetadata = metadata.openapi({
  description: "Copied onto every chunk; `/v1/rag/search` filters on it.",
  example: { team: "support", year: 2026 },
});

const mimeTypeField = z
  .string()
  .min(1)
  .max(200)
  .openapi({
    description: `One of ${SUPPORTED_MIME_TYPES.join(", ")} (415 otherwise).`,
    example: "text/markdown",
  });

/** One document as JSON: text in `content`, or any supported format base64-encoded in `contentBase64`. */
export const jsonDocument = z
  .object({
    title: documentTitle.optional(),
    source: documentSource.optional(),
    mimeType: mimeTypeField.default("text/plain"),
    content: z.string().min(1).optional().openapi({ description: "The document's text." }),
    contentBase64: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: "The original file, base64-encoded (for PDF)." }),
    metadata: documentMetadata.optional(),
  })
  .strict()
  .refine((d) => (d.content === undefined) !== (d.contentBase64 === undefined), {
    message: "give exactly one of content and contentBase64",
    path: ["content"],
  });

export const documentStatus = z.enum(DOCUMENT_STATUSES);

export const documentSchema = z
  .object({
    id: z.string().uuid(),
    collectionId: z.string().uuid(),
    title: z.string().nullable(),
    source: z.string().nullable(),
    mimeType: z.string().nullable(),
    sizeBytes: z.number().int().nullable(),
    contentHash: z.string().openapi({ description: "SHA-256 of the original, hex." }),
    status: documentStatus.openapi({
      description:
        "queued -> parsing -> chunking -> embedding -> indexed, or failed (see statusReason). " +
        "A stage that stalls is retried by the platform and, after repeated failures, failed.",
    }),
    statusReason: z.string().nullable().openapi({
      description: "Why the document failed, or why the last attempt failed while it is retried.",
    }),
    attempts: z.number().int().openapi({ description: "Processing attempts of the current generation." }),
    generation: z.number().int().openapi({ description: "Counts retries and re-ingests, from 1." }),
    stages: z.partialRecord(documentStatus, timestamp).openapi({
      description: "When each stage of the current generation started.",
      example: { queued: "2026-11-26T08:00:00.000Z", parsing: "2026-11-26T08:00:01.000Z" },
    }),
    chunkCount: z.number().int().nullable(),
    embeddingTokens: z.number().int().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("Document");

export const documentWithContentSchema = documentSchema
  .extend({
    content: z.string().nullable().openapi({
      description: "The extracted text chunk offsets and citations point into (null until indexed).",
    }),
  })
  .openapi("DocumentWithContent");

export type DocumentRow = typeof documents.$inferSelect;

export function toDocumentResponse(row: DocumentRow): z.infer<typeof documentSchema> {
  return {
    id: row.id,
    collectionId: row.collectionId,
    title: row.title,
    source: row.source,
    mimeType: row.mimeType,
    sizeBytes: row.sizeBytes,
    contentHash: row.contentHash,
    status: row.status,
    statusReason: row.statusReason,
    attempts: row.attempts,
    generation: row.generation,
    stages: Object.fromEntries(
      Object.entries(row.stageTimes).map(([stage, at]) => [stage, iso(at as string)]),
    ),
    chunkCount: row.chunkCount,
    embeddingTokens: row.embeddingTokens,
    metadata: row.metadata,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
