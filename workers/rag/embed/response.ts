import { z } from "zod";
import { estimateTokens } from "../chunk/tokens";
import { EmbeddingError } from "./types";

/** The `/v1/embeddings` answer Voyage and OpenAI-compatible servers share. */
const indexedEmbeddingsSchema = z.object({
  data: z.array(
    z.object({
      embedding: z.array(z.number()),
      // Some OpenAI-compatible servers leave it out; their items are then in input order.
      index: z.number().int().nonnegative().optional(),
    }),
  ),
  usage: z
    .object({
      prompt_tokens: z.number().optional(),
      total_tokens: z.number().optional(),
    })
    .optional(),
});

export type IndexedEmbeddings = z.infer<typeof indexedEmbeddingsSchema>;

/**
 * Reads a `{ data: [{ embedding, index }], usage }` answer and puts the vectors in input order:
 * the API gives each item its input's `index` and does not promise the array is in that order.
 *
 * @throws EmbeddingError (not retryable) when the body has another shape or the indexes are not
 *   exactly 0..n-1.
 * @example
 * const { vectors, usage } = parseIndexedEmbeddings("Voyage AI", await response.json());
 */
export function parseIndexedEmbeddings(
  vendor: string,
  json: unknown,
): { vectors: number[][]; usage: IndexedEmbeddings["usage"] } {
  const parsed = indexedEmbeddingsSchema.safeParse(json);
  if (!parsed.success) throw unexpectedBody(vendor, parsed.error);
  const { data, usage } = parsed.data;
  const vectors = new Array<number[] | undefined>(data.length);
  data.forEach((item, position) => {
    const index = item.index ?? position;
    if (index >= data.length || vectors[index] !== undefined) {
      throw new EmbeddingError(`${vendor} answered with out-of-range or repeated index ${index}`, false);
    }
    vectors[index] = item.embedding;
  });
  return { vectors: vectors as number[][], usage };
}

/**
 * A vendor's rejected body as a non-retryable error that names the first problem.
 *
 * @example
 * if (!parsed.success) throw unexpectedBody("Workers AI", parsed.error);
 */
export function unexpectedBody(vendor: string, error: z.ZodError): EmbeddingError {
  const issue = error.issues[0];
  const where = issue?.path.length ? issue.path.join(".") : "body";
  return new EmbeddingError(
    `${vendor} answered with an unexpected body (${where}: ${issue?.message})`,
    false,
  );
}

/**
 * The vendor's token count when it reports one; otherwise our own estimate, so quotas and usage
 * records still see the work (Workers AI reports none).
 *
 * @example
 * const tokens = reportedOrEstimated(usage?.total_tokens, texts);
 */
export function reportedOrEstimated(reported: number | undefined, texts: string[]): number {
  if (reported !== undefined) return reported;
  return texts.reduce((sum, text) => sum + estimateTokens(text), 0);
}
