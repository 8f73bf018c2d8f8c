import { ToolError } from "../../server/types";
import { MAX_PATTERN_LENGTH } from "./limits";
import { escapeLike } from "./paths";

/** A `search_files` pattern compiled to an ILIKE pattern (escape `\`) on an entry's name. */
export interface NamePattern {
  kind: "glob" | "substring";
  like: string;
}

/**
 * Compiles a `search_files` pattern. With `*` (any run of characters) or `?` (one character)
 * it is a glob that must match the whole name (`*.md`); without, it is a substring of the name
 * (`report`). Both ignore case. Every other character, LIKE's `%` and `_` included, matches
 * itself. Patterns match names, not paths, so a `/` is refused.
 *
 * @throws ToolError `invalid_pattern` when empty, too long, containing `/` or a control character.
 * @example
 * compileNamePattern("*.md"); // { kind: "glob", like: "%.md" }
 * compileNamePattern("100%"); // { kind: "substring", like: "%100\\%%" }
 */
export function compileNamePattern(pattern: string): NamePattern {
  if (pattern === "") throw new ToolError("Pattern is empty.", "invalid_pattern");
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new ToolError(`Pattern is longer than ${MAX_PATTERN_LENGTH} characters.`, "invalid_pattern");
  }
  if (pattern.includes("/")) {
    throw new ToolError(
      "Patterns match names, not paths: search under a directory instead.",
      "invalid_pattern",
    );
  }
  if (/\p{C}/u.test(pattern)) {
    throw new ToolError("Pattern contains a control or format character.", "invalid_pattern");
  }
  const nfc = pattern.normalize("NFC");
  if (!/[*?]/.test(nfc)) return { kind: "substring", like: `%${escapeLike(nfc)}%` };
  const like = escapeLike(nfc).replace(/[*?]/g, (ch) => (ch === "*" ? "%" : "_"));
  return { kind: "glob", like };
}
