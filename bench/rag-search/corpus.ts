/**
 * Synthetic text for the knowledge-base benchmarks: deterministic (seeded), pronounceable
 * pseudo-words, and topics, each a set of words its passages use often. The offline embedding
 * model (`hashedVector`) ranks by shared words and word forms, so chunks of one topic lie near
 * each other and near a query about that topic: the vectors cluster the way real embeddings of a
 * corpus do, rather than being spread uniformly at random (which would flatter no index and
 * describe no real corpus).
 */

/** mulberry32: a small, fast, seeded PRNG; the same seed gives the same corpus on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Corpus {
  /** Every word, the most common first. */
  words: string[];
  /** Each topic's own words. */
  topics: string[][];
}

const ONSETS = ["b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "tr", "pl"];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
const CODAS = ["", "", "n", "r", "s", "l", "m", "t"];

/**
 * A vocabulary of `wordCount` distinct pseudo-words and `topicCount` topics of `topicWords`
 * words each, drawn from the less common part of the vocabulary.
 */
export function makeCorpus(seed: number, wordCount = 5000, topicCount = 200, topicWords = 40): Corpus {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const seen = new Set<string>();
  while (seen.size < wordCount) {
    const syllables = 1 + Math.floor(random() * 3);
    let word = "";
    for (let i = 0; i < syllables; i++) word += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
    if (word.length >= 3) seen.add(word);
  }
  const words = [...seen];
  const rare = words.slice(Math.floor(wordCount / 10));
  const topics = Array.from({ length: topicCount }, () =>
    Array.from({ length: topicWords }, () => pick(rare)),
  );
  return { words, topics };
}

/** A common word: skewed towards the start of the vocabulary, as word frequencies are. */
function commonWord(corpus: Corpus, random: () => number): string {
  return corpus.words[Math.floor(random() ** 3 * corpus.words.length)] as string;
}

/** One word of a passage on `topic`: the topic's own words half the time. */
function topicalWord(corpus: Corpus, random: () => number, topic: number): string {
  const own = corpus.topics[topic] as string[];
  return random() < 0.5 ? (own[Math.floor(random() * own.length)] as string) : commonWord(corpus, random);
}

/** Sentences on `topic`, about `wordCount` words in all. */
export function passage(corpus: Corpus, random: () => number, topic: number, wordCount: number): string {
  const sentences: string[] = [];
  let left = wordCount;
  while (left > 0) {
    const length = Math.min(left, 8 + Math.floor(random() * 10));
    const sentence = Array.from({ length }, () => topicalWord(corpus, random, topic)).join(" ");
    sentences.push(`${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
    left -= length;
  }
  return sentences.join(" ");
}

/** A short question-like query on `topic`: mostly the topic's words. */
export function queryText(corpus: Corpus, random: () => number, topic: number, wordCount = 8): string {
  const own = corpus.topics[topic] as string[];
  return Array.from({ length: wordCount }, (_, i) =>
    i % 4 === 3 ? commonWord(corpus, random) : (own[Math.floor(random() * own.length)] as string),
  ).join(" ");
}

/**
 * A Markdown document of about `targetChars` characters on `topic`: a title, then sections with
 * a heading and a few paragraphs each, so the chunker has structure to split on.
 */
export function markdownDocument(
  corpus: Corpus,
  random: () => number,
  topic: number,
  targetChars: number,
): string {
  const parts = [`# ${passage(corpus, random, topic, 5).replace(/\.$/, "")}`];
  let chars = parts[0]?.length ?? 0;
  while (chars < targetChars) {
    const heading = `## ${passage(corpus, random, topic, 4).replace(/\.$/, "")}`;
    parts.push(heading);
    chars += heading.length;
    const paragraphs = 2 + Math.floor(random() * 4);
    for (let i = 0; i < paragraphs && chars < targetChars; i++) {
      const paragraph = passage(corpus, random, topic, 40 + Math.floor(random() * 80));
      parts.push(paragraph);
      chars += paragraph.length;
    }
  }
  return `${parts.join("\n\n")}\n`;
}
