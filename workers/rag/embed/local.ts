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
  const lowered = text.toLowerCase();
  const features = new FeatureCounts(lowered.length);
  for (const match of lowered.matchAll(WORD)) {
    const word = match[0];
    features.add(
      fnv1a(word, 0, word.length, WORD_PREFIX),
      fnv1a(word, 0, word.length, SIGNED_WORD_PREFIX),
      WORD_WEIGHT,
    );
    const marked = `<${word}>`;
    for (let n = 3; n <= 5; n++) {
      for (let i = 0; i + n <= marked.length; i++) {
        features.add(fnv1a(marked, i, i + n, FNV_OFFSET), fnv1a(marked, i, i + n, SIGNED_PREFIX), 1);
      }
    }
  }
  const vector = new Array<number>(dim).fill(0);
  // In first-seen order: floating-point sums must be taken in the same order every time.
  for (let slot = 0; slot < features.size; slot++) {
    const bucket = (features.hashes[slot] as number) % dim;
    const sign = (features.signHashes[slot] as number) & 1 ? 1 : -1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * (1 + portableLog(features.counts[slot] as number));
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

/**
 * ln(x) for x >= 1, from +, -, * and / alone, whose IEEE 754 results every engine gives alike.
 * Math.log is not specified to the last bit and V8 versions differ (Node 22 and workerd give ln 3
 * one ulp apart), while the fake vendors (Node) must give the very vectors the Worker computes.
 * Halving is exact, so x = m * 2^e with m in [1, 2); then ln m = 2 atanh(s), s = (m-1)/(m+1) <= 1/3,
 * whose series is summed to s^39 (below 1e-18), in a fixed order.
 */
function portableLog(x: number): number {
  let mantissa = x;
  let exponent = 0;
  while (mantissa >= 2) {
    mantissa /= 2;
    exponent++;
  }
  const s = (mantissa - 1) / (mantissa + 1);
  const s2 = s * s;
  let power = s;
  let series = 0;
  for (let k = 1; k <= 39; k += 2) {
    series += power / k;
    power *= s2;
  }
  return exponent * Math.LN2 + 2 * series;
}

/**
 * How often each feature occurs, in first-seen order. A feature is known by its two hashes (its
 * bucket's and its sign's: 64 bits), not by its text, so no string is built per n-gram; an open
 * addressing table over typed arrays finds it again. Distinct features share both hashes with
 * odds of 2^-64 a pair. This is the model's hot loop: about 90,000 features per 40,000 characters.
 */
class FeatureCounts {
  readonly hashes: number[] = [];
  readonly signHashes: number[] = [];
  readonly counts: number[] = [];
  /** Each position holds a slot number + 1, or 0 when empty; kept at most half full. */
  private table: Int32Array;

  constructor(textLength: number) {
    let capacity = 256;
    // Room for every feature of a short text at once; a long one grows as it goes.
    while (capacity < 8 * textLength && capacity < 1 << 16) capacity *= 2;
    this.table = new Int32Array(capacity);
  }

  get size(): number {
    return this.counts.length;
  }

  add(hash: number, signHash: number, weight: number): void {
    const mask = this.table.length - 1;
    let at = (hash ^ Math.imul(signHash, 0x9e3779b1)) & mask;
    for (;;) {
      const held = this.table[at] as number;
      if (held === 0) break;
      const slot = held - 1;
      if (this.hashes[slot] === hash && this.signHashes[slot] === signHash) {
        this.counts[slot] = (this.counts[slot] as number) + weight;
        return;
      }
      at = (at + 1) & mask;
    }
    this.table[at] = this.counts.length + 1;
    this.hashes.push(hash);
    this.signHashes.push(signHash);
    this.counts.push(weight);
    if (this.counts.length * 2 > this.table.length) this.grow();
  }

  private grow(): void {
    this.table = new Int32Array(this.table.length * 2);
    const mask = this.table.length - 1;
    for (let slot = 0; slot < this.counts.length; slot++) {
      let at =
        ((this.hashes[slot] as number) ^ Math.imul(this.signHashes[slot] as number, 0x9e3779b1)) & mask;
      while (this.table[at] !== 0) at = (at + 1) & mask;
      this.table[at] = slot + 1;
    }
  }
}

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a, 32 bits, over the UTF-16 code units `text[from..to)`, continuing from `hash`. */
function fnv1a(text: string, from: number, to: number, hash: number): number {
  let h = hash;
  for (let i = from; i < to; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The hash states after the features' prefixes: `w:` marks a word, `±` the sign's hash. */
const WORD_PREFIX = fnv1a("w:", 0, 2, FNV_OFFSET);
const SIGNED_PREFIX = fnv1a("±", 0, 1, FNV_OFFSET);
const SIGNED_WORD_PREFIX = fnv1a("±w:", 0, 3, FNV_OFFSET);
