import type { EmbeddingDim } from "../../../db/schema/rag";
import { estimateTokens } from "../chunk/tokens";
import type { EmbeddingProvider, EmbeddingResult } from "./types";

/** The offline model's name, as collections record it. */
export const LOCAL_EMBEDDING_MODEL = "meridian-hashed-ngrams-v1";

/**
 * The offline provider for development and tests: no network, no key, deterministic. Each text
 * becomes a bag of features (lower-cased words, plus the character 3- to 5-grams of each word
 * with boundary marks, so "indexing" and "indexes" share most features), hashed into `dim`
 * buckets with a second hash choosing the sign (the "hashing trick", which keeps collisions from
 * adding up in one direction), weighted 1 + ln(tf) and L2-normalised. Cosine similarity then
 * tracks shared vocabulary and word forms: related text ranks above unrelated text, which is what
 * a test of retrieval needs, though it knows no synonyms.
 *
 * @example
 * const provider = localEmbeddings(384);
 * const { vectors } = await provider.embed(["how are vectors indexed?"], "query");
 */
export function localEmbeddings(dim: EmbeddingDim, model = LOCAL_EMBEDDING_MODEL): EmbeddingProvider {
  return {
    provider: "local",
    model,
    dim,
    maxBatch: 256,
    async embed(texts): Promise<EmbeddingResult> {
      let tokens = 0;
      const vectors = texts.map((text) => {
        tokens += estimateTokens(text);
        return hashedVector(text, dim);
      });
      return { vectors, tokens };
    },
  };
}

const WORD = /[\p{L}\p{N}]+/gu;
/** Whole words weigh more than any one of their n-grams: a shared word is stronger evidence. */
const WORD_WEIGHT = 2;

/**
 * The offline model itself, without the provider around it: one text's unit vector of `dim`
 * numbers. Exported for the fake embedding vendors (scripts/local-stack/fake-embeddings-server.ts),
 * so vectors from the fakes are as meaningful as the offline provider's.
 *
 * @example
 * const vector = hashedVector("how are vectors indexed?", 384);
 */
export function hashedVector(text: string, dim: number): number[] {
  const counts = new Map<string, number>();
  const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const word = match[0];
    add(`w:${word}`, WORD_WEIGHT);
    const marked = `<${word}>`;
    for (let n = 3; n <= 5; n++) {
      for (let i = 0; i + n <= marked.length; i++) add(marked.slice(i, i + n), 1);
    }
  }
  const vector = new Array<number>(dim).fill(0);
  for (const [feature, count] of counts) {
    const hash = fnv1a(feature);
    const sign = fnv1a(`±${feature}`) & 1 ? 1 : -1;
    vector[hash % dim] = (vector[hash % dim] ?? 0) + sign * (1 + Math.log(count));
  }
  // A plain sum of squares and sqrt, not Math.hypot: both are exactly specified by IEEE 754,
  // while hypot's rounding differs between V8 versions, and the fake vendors (Node) must give
  // the very vectors the Worker (workerd) computes.
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  // An empty text (no words) has no direction; a unit vector on one axis keeps cosine defined.
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

/** FNV-1a, 32 bits, over UTF-16 code units: fast and stable across runtimes. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
