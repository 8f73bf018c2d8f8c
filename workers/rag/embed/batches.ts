import { EmbeddingHttpError } from "./http";
import { EmbeddingError, type EmbeddingProvider, type EmbeddingPurpose, type EmbeddingResult } from "./types";

/**
 * Characters per call, whatever the provider's `maxBatch`: about 25k tokens, well under every
 * vendor's per-request token limit, and a body small enough to send and retry cheaply.
 */
export const MAX_BATCH_CHARS = 100_000;

export interface EmbeddingRetryPolicy {
  /** Calls per batch in all, the first one included. */
  maxAttempts: number;
  /** Backoff ceiling for the first retry; it doubles for each retry after that. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Longest `Retry-After` waited out here. A vendor asking for longer gets its error rethrown at
   * once: holding a queue consumer that long wastes its time limit, and the queue's own retry
   * delay is the right place for such a wait.
   */
  maxRetryAfterMs: number;
}

/** Three calls per batch, with waits of a fraction of a second to two seconds in between. */
export const EMBEDDING_RETRY_POLICY: EmbeddingRetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 5_000,
};

export interface BatchProgress {
  /** 1-based number of the batch just embedded, of `batches`. */
  batch: number;
  batches: number;
  /** Texts embedded so far, of `total`. */
  embedded: number;
  total: number;
  /** Tokens billed so far. */
  tokens: number;
}

export interface EmbedInBatchesOptions {
  /** Told after each batch succeeds, e.g. to record a document's progress. Awaited. */
  onBatch?: (progress: BatchProgress) => void | Promise<void>;
  /** @default EMBEDDING_RETRY_POLICY */
  retry?: EmbeddingRetryPolicy;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Embeds any number of texts, in calls of at most `provider.maxBatch` texts and
 * {@link MAX_BATCH_CHARS} characters, one call at a time (vendors rate-limit per key, so
 * parallel calls would mostly buy 429s). A call that fails with a retryable EmbeddingError is
 * tried again, up to 3 calls per batch, after an exponential backoff with jitter, or after the
 * vendor's `Retry-After` when that is short. Batches that succeeded are not repeated.
 *
 * @throws EmbeddingError from the batch that gave up: retryable when a later try may succeed
 *   (the queue's retry), with `retryAfterMs` when the vendor asked for a long wait.
 * @example
 * const { vectors, tokens } = await embedInBatches(provider, chunks.map((c) => c.text), "document", {
 *   onBatch: ({ embedded, total }) => logger.debug("embedding", { embedded, total }),
 * });
 */
export async function embedInBatches(
  provider: EmbeddingProvider,
  texts: string[],
  purpose: EmbeddingPurpose,
  options: EmbedInBatchesOptions = {},
): Promise<EmbeddingResult> {
  const { onBatch, retry = EMBEDDING_RETRY_POLICY, random = Math.random } = options;
  const batches = planBatches(texts, provider.maxBatch, MAX_BATCH_CHARS);
  const vectors: number[][] = [];
  let tokens = 0;
  for (const [n, [start, end]] of batches.entries()) {
    const batch = texts.slice(start, end);
    const result = await withRetries(() => provider.embed(batch, purpose), retry, random);
    vectors.push(...result.vectors);
    tokens += result.tokens;
    await onBatch?.({ batch: n + 1, batches: batches.length, embedded: end, total: texts.length, tokens });
  }
  return { vectors, tokens };
}

/**
 * Splits texts into consecutive `[start, end)` ranges of at most `maxTexts` texts and
 * `maxChars` characters. A text longer than `maxChars` travels alone: it cannot be split here
 * (chunking decides text boundaries), and the vendor truncates or refuses it.
 *
 * @example
 * planBatches(["a", "b", "c"], 2, 100_000); // [[0, 2], [2, 3]]
 */
export function planBatches(texts: string[], maxTexts: number, maxChars: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = 0;
  let chars = 0;
  texts.forEach((text, i) => {
    const full = i - start >= maxTexts || (i > start && chars + text.length > maxChars);
    if (full) {
      ranges.push([start, i]);
      start = i;
      chars = 0;
    }
    chars += text.length;
  });
  if (start < texts.length) ranges.push([start, texts.length]);
  return ranges;
}

async function withRetries<T>(
  call: () => Promise<T>,
  policy: EmbeddingRetryPolicy,
  random: () => number,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delayMs = retryDelayMs(error, attempt, policy, random);
      if (delayMs === null) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** How long to wait before the next attempt, or null to give up and rethrow. */
function retryDelayMs(
  error: unknown,
  attempt: number,
  policy: EmbeddingRetryPolicy,
  random: () => number,
): number | null {
  if (!(error instanceof EmbeddingError) || !error.retryable || attempt >= policy.maxAttempts) return null;
  const requested = error instanceof EmbeddingHttpError ? error.retryAfterMs : undefined;
  if (requested !== undefined) return requested <= policy.maxRetryAfterMs ? requested : null;
  // "Equal jitter": at least half the ceiling, so a retry never comes back at once, and the rest
  // random, so callers that failed together spread out.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}
