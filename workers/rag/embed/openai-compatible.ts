import type { EmbeddingDim } from "../../../db/schema/rag";
import { type EmbeddingFetch, joinUrl, postEmbeddingJson } from "./http";
import { parseIndexedEmbeddings, reportedOrEstimated } from "./response";
import type { EmbeddingProvider, EmbeddingResult } from "./types";

export interface OpenAiCompatibleSettings {
  apiKey: string;
  /** OpenAI, a gateway, Ollama, vLLM...; requests go to `<baseUrl>/v1/embeddings`. */
  baseUrl: string;
}

/**
 * Texts per request. OpenAI takes up to 2,048, but self-hosted servers (Ollama, vLLM) answer a
 * large batch slowly enough to hit the request timeout; `embedInBatches`' character cap keeps
 * real batches smaller than this anyway.
 */
export const OPENAI_MAX_BATCH = 256;

/**
 * Sizes of the models that take `dimensions` (trained to be shortened). Other models, and other
 * servers' models, are sent without it: vLLM and others reject it for a model that can't.
 */
const DEFAULT_DIMS: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
};

/**
 * Any server that speaks OpenAI's `/v1/embeddings`. Floats are asked for explicitly: the official
 * SDKs default to base64, and some servers follow the SDKs rather than the API reference.
 *
 * @example
 * const openai = openAiCompatibleEmbeddings("text-embedding-3-small", 1536, { apiKey, baseUrl: "https://api.openai.com" }, fetch);
 * const { vectors, tokens } = await openai.embed(["a passage"], "document");
 */
export function openAiCompatibleEmbeddings(
  model: string,
  dim: EmbeddingDim,
  settings: OpenAiCompatibleSettings,
  fetchImpl: EmbeddingFetch,
): EmbeddingProvider {
  const url = joinUrl(settings.baseUrl, "/v1/embeddings");
  const defaultDim = DEFAULT_DIMS[model];
  const dimensions = defaultDim !== undefined && dim !== defaultDim ? dim : undefined;
  return {
    provider: "openai",
    model,
    dim,
    maxBatch: OPENAI_MAX_BATCH,
    // OpenAI's models embed queries and documents alike, so `purpose` is not sent.
    async embed(texts): Promise<EmbeddingResult> {
      const json = await postEmbeddingJson({
        vendor: "OpenAI-compatible server",
        url,
        token: settings.apiKey,
        body: {
          input: texts,
          model,
          encoding_format: "float",
          ...(dimensions === undefined ? {} : { dimensions }),
        },
        fetchImpl,
      });
      const { vectors, usage } = parseIndexedEmbeddings("OpenAI-compatible server", json);
      return { vectors, tokens: reportedOrEstimated(usage?.prompt_tokens ?? usage?.total_tokens, texts) };
    },
  };
}
