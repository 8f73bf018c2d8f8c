import type { EmbeddingDim } from "../../../db/schema/rag";

/** Documents are embedded for storage, queries for search; some models embed the two differently. */
export type EmbeddingPurpose = "document" | "query";

export interface EmbeddingResult {
  /** One vector per input text, in input order, each `dim` long. */
  vectors: number[][];
  /** Tokens the vendor billed for the call (the offline provider counts its own estimate). */
  tokens: number;
}

/**
 * An embedding model behind one vendor's API. `embed` takes at most `maxBatch` texts; callers
 * split larger inputs with `embedInBatches`.
 */
export interface EmbeddingProvider {
  /** The `collections.embedding_provider` value this implements. */
  readonly provider: EmbeddingProviderName;
  readonly model: string;
  readonly dim: EmbeddingDim;
  readonly maxBatch: number;
  embed(texts: string[], purpose: EmbeddingPurpose): Promise<EmbeddingResult>;
}

export const EMBEDDING_PROVIDERS = ["local", "voyage", "openai", "workers-ai"] as const;
export type EmbeddingProviderName = (typeof EMBEDDING_PROVIDERS)[number];

/** What a collection records about its model: enough to rebuild its provider. */
export interface EmbeddingChoice {
  provider: EmbeddingProviderName;
  model: string;
  dim: EmbeddingDim;
}

/**
 * The vendor refused or failed in a way a later attempt may not: retrying is the queue's job,
 * with backoff. `retryable` is false for errors that will repeat (bad key, unknown model).
 */
export class EmbeddingError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "EmbeddingError";
  }
}
