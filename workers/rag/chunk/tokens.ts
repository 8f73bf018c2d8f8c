/**
 * A cheap, deterministic token estimate with no vocabulary file, used to size chunks and to
 * meter embedding calls. It models what BPE tokenizers (cl100k, o200k, Claude's) do to text:
 * - a run of letters is one token up to 7 characters ("tokens", "because"), and one per 4
 *   characters beyond that ("internationalisation" = 5): common words are single tokens,
 *   rare and long ones split into pieces of about 4 characters;
 * - a run of digits is one token per 3 digits, as the tokenizers group numbers;
 * - each other visible character (punctuation, symbols, an emoji) is one token;
 * - each Han, kana, Hangul or Thai character is one token: those scripts have no spaces and
 *   tokenizers spend about one token per character on them;
 * - whitespace is free (it merges into the following token).
 * It errs high rather than low (long words, identifiers, code), which is the safe side for a
 * chunk that must fit an embedding model's input.
 */

const PER_CHARACTER = String.raw`\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\p{sc=Thai}`;
const PIECE = new RegExp(
  `([${PER_CHARACTER}])|((?:(?![${PER_CHARACTER}])[\\p{L}\\p{M}])+)|(\\p{N}+)|[^\\s\\p{L}\\p{M}\\p{N}]`,
  "gu",
);

const WORD_CHARACTERS_PER_EXTRA_TOKEN = 4;
const LONGEST_ONE_TOKEN_WORD = 7;
const DIGITS_PER_TOKEN = 3;

/**
 * Estimated tokens in `text` (see the module comment for the rules).
 *
 * @example
 * estimateTokens("The quick brown fox jumps over the lazy dog.") // 10
 * estimateTokens("internationalisation") // 5
 */
export function estimateTokens(text: string): number {
  let total = 0;
  PIECE.lastIndex = 0;
  for (let match = PIECE.exec(text); match !== null; match = PIECE.exec(text)) {
    const [, , word, digits] = match;
    if (word !== undefined) total += wordTokens(word.length);
    else if (digits !== undefined) total += Math.ceil(digits.length / DIGITS_PER_TOKEN);
    else total += 1;
  }
  return total;
}

/**
 * Running token counts over `text`: `sums[i]` is the estimate for `text.slice(0, i)`, each piece
 * credited where it ends, and a long word or number credited a token per 4 letters (3 digits)
 * as they pass. So `sums[b] - sums[a]` is the estimate of `text.slice(a, b)` in O(1) whenever
 * `a` and `b` fall between pieces, and at a point where the running count steps up inside a
 * long word, cutting there gives halves whose own estimates add up to no more than the whole.
 * That is what lets the chunker size a 1 MB document without re-estimating slices.
 *
 * @example
 * const sums = tokenPrefixSums("hello world");
 * sums[11] - sums[6] // 1, the estimate of "world"
 */
export function tokenPrefixSums(text: string): Uint32Array {
  const sums = new Uint32Array(text.length + 1);
  PIECE.lastIndex = 0;
  for (let match = PIECE.exec(text); match !== null; match = PIECE.exec(text)) {
    const [piece, , word, digits] = match;
    const start = match.index;
    const end = start + piece.length;
    const step =
      word !== undefined && word.length > LONGEST_ONE_TOKEN_WORD
        ? WORD_CHARACTERS_PER_EXTRA_TOKEN
        : digits !== undefined
          ? DIGITS_PER_TOKEN
          : piece.length;
    for (let at = start + step; at < end; at += step) sums[at] = 1;
    sums[end] = 1;
  }
  for (let i = 1; i < sums.length; i++) sums[i] = (sums[i] ?? 0) + (sums[i - 1] ?? 0);
  return sums;
}

function wordTokens(length: number): number {
  return length <= LONGEST_ONE_TOKEN_WORD ? 1 : Math.ceil(length / WORD_CHARACTERS_PER_EXTRA_TOKEN);
}
