import type { EmbeddingDim } from "../../../db/schema/rag";
import { type EmbeddingFetch, joinUrl, postEmbeddingJson } from "./http";
import { parseIndexedEmbeddings, reportedOrEstimated } from "./response";
import type { EmbeddingProvider, EmbeddingResult } from "./types";

export interface VoyageSettings {
  apiKey: string;
  /** e.g. `https://api.voyageai.com`; requests go to `<baseUrl>/v1/embeddings`. */
  baseUrl: string;
}

/** Voyage's documented limit on the length of `input` in one request. */
export const VOYAGE_MAX_BATCH = 128;

/**
 * Models that take `output_dimension` (Matryoshka-trained: 256, 512, 1024 or 2048), all with a
 * default of 1024. Older models have one fixed size and reject the parameter; a model not listed
 * here is sent without it, and the size check in provider.ts names any mismatch.
 */
const FLEXIBLE_MODELS = new Set([
  "voyage-3-large",
  "voyage-3.5",
  "voyage-3.5-lite",
  "voyage-code-3",
  "voyage-4-large",
  "voyage-4",
  "voyage-4-lite",
]);
const FLEXIBLE_DEFAULT_DIM = 1024;

/**
 * Voyage AI's `/v1/embeddings`. Documents and queries are embedded with `input_type` set, so
 * Voyage adds its retrieval prompt to each side.
 *
 * @example
 * const voyage = voyageEmbeddings("voyage-3.5", 1024, { apiKey, baseUrl: "https://api.voyageai.com" }, fetch);
 * const { vectors } = await voyage.embed(["what is a vector index?"], "query");
 */
export function voyageEmbeddings(
  model: string,
  dim: EmbeddingDim,
  settings: VoyageSettings,
  fetchImpl: EmbeddingFetch,
): EmbeddingProvider {
  const url = joinUrl(settings.baseUrl, "/v1/embeddings");
  const outputDimension = FLEXIBLE_MODELS.has(model) && dim !== FLEXIBLE_DEFAULT_DIM ? dim : undefined;
  return {
    provider: "voyage",
    model,
    dim,
    maxBatch: VOYAGE_MAX_BATCH,
    async embed(texts, purpose): Promise<EmbeddingResult> {
      const json = await postEmbeddingJson({
        vendor: "Voyage AI",
        url,
        token: settings.apiKey,
        body: {
          input: texts,
          model,
          input_type: purpose,
          ...(outputDimension === undefined ? {} : { output_dimension: outputDimension }),
        },
        fetchImpl,
      });
      const { vectors, usage } = parseIndexedEmbeddings("Voyage AI", json);
      return { vectors, tokens: reportedOrEstimated(usage?.total_tokens, texts) };
    },
  };
}
