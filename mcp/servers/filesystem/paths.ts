import { ToolError } from "../../server/types";
import { MAX_NAME_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH } from "./limits";

/** The tenant's root directory. It always exists and has no row. */
export const ROOT = "/";

const encoder = new TextEncoder();

/** UTF-8 length of `text`, in bytes. */
export function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

/*
 * Refused before any other work, so a megabyte of input is not NFC-normalised first. NFC
 * never makes a string more than a few times shorter, so nothing this long could pass the
 * byte limit afterwards anyway.
 */
const MAX_RAW_LENGTH = MAX_PATH_BYTES * 4;

/** A lone UTF-16 surrogate: not a character, and not encodable as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Unicode "Other": controls (NUL, tab, newline, DEL, C1), format characters (bidi overrides
 * and isolates, zero-width space/joiners, BOM, soft hyphen, tag characters), private use and
 * unassigned code points.
 */
const OTHER = /\p{C}/u;

/** Invisible characters that are not in category C: variation selectors, Hangul fillers, CGJ. */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/** Every separator except the ASCII space: NBSP, ideographic space, line/paragraph separators. */
const ODD_SPACE = /[\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** `%2e`, `%2F`, `%00`, `%25` (double encoding), `%c0%ae` (overlong UTF-8) and IIS's `%u002e`. */
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}|%u[0-9A-Fa-f]{4}/;

const DRIVE_LETTER = /^[A-Za-z]:/;

/**
 * Look-alikes of `/`, `\` and `.` that NFKC does not fold to ASCII, plus blank-looking
 * letters. (Those NFKC does fold, such as `．` `／` `＼` `‥` `℀`, are caught by the check below.)
 */
const LOOKALIKES = new Set([
  0x2215, // ∕ DIVISION SLASH
  0x2044, // ⁄ FRACTION SLASH
  0x29f8, // ⧸ BIG SOLIDUS
  0x29f9, // ⧹ BIG REVERSE SOLIDUS
  0x2216, // ∖ SET MINUS
  0x2571, // ╱ BOX DRAWINGS LIGHT DIAGONAL
  0x2572, // ╲ BOX DRAWINGS LIGHT DIAGONAL
  0x0337, // combining short solidus overlay
  0x0338, // combining long solidus overlay
  0x3002, // 。 IDEOGRAPHIC FULL STOP
  0x2800, // ⠀ BRAILLE PATTERN BLANK
]);

/** ASCII characters a non-ASCII character must not turn into under NFKC. */
const FOLDS_TO_SPECIAL = /[./\\%:~]/;

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

function invalid(message: string): never {
  throw new ToolError(message, "invalid_path");
}

function outside(message: string): never {
  throw new ToolError(message, "path_outside_root");
}

function checkCharacters(path: string): void {
  const other = OTHER.exec(path) ?? IGNORABLE.exec(path);
  if (other) invalid(`Path contains a control, format or invisible character (${codePoint(other[0])}).`);
  const space = ODD_SPACE.exec(path);
  if (space) invalid(`Path contains a non-ASCII space (${codePoint(space[0])}); only U+0020 is allowed.`);
  if (path.includes("\\")) invalid("Path contains a backslash; use / to separate segments.");
  if (PERCENT_ESCAPE.test(path)) {
    invalid("Path contains a percent-encoded sequence; paths are never URL-decoded, write the characters.");
  }
  if (DRIVE_LETTER.test(path))
    outside("Windows drive letters are not paths here; paths start at the root /.");
  if (path.includes(":"))
    invalid("Path contains ':' (drive letters, alternate streams and URLs are refused).");
  for (const ch of path) {
    if (ch.charCodeAt(0) < 0x80) continue;
    if (LOOKALIKES.has(ch.codePointAt(0) ?? 0) || FOLDS_TO_SPECIAL.test(ch.normalize("NFKC"))) {
      invalid(`Path contains ${codePoint(ch)}, which looks like '/', '\\', '.' or another path character.`);
    }
  }
}

function checkSegment(segment: string): void {
  if (segment === "") invalid("Path contains an empty segment ('//').");
  if (segment === "..") outside("'..' segments are not allowed; write the path from the root.");
  if (/^\.{3,}$/.test(segment)) invalid(`'${segment}' is not a valid name.`);
  if (segment.startsWith("~")) outside("'~' (home directory) is not a path here; paths start at the root /.");
  if (segment !== segment.trim()) invalid(`Name '${segment}' begins or ends with a space.`);
  if (utf8Length(segment) > MAX_NAME_BYTES) invalid(`A name is longer than ${MAX_NAME_BYTES} bytes.`);
}

/**
 * Turns a path a model wrote into the canonical absolute form stored in `mcp_files.path`:
 * NFC, `/`-separated, one leading `/`, no trailing `/`, no `.` segments; the root is `/`.
 * Relative paths are read from the tenant root, so `notes/a.md` is `/notes/a.md`. Anything
 * that could mean a different place to another layer (traversal, encodings, backslashes,
 * look-alike characters, invisible characters) is refused rather than repaired.
 *
 * @throws ToolError `path_outside_root` for `..`, `~` and drive letters; `invalid_path` for
 *   everything else refused (see docs/mcp-filesystem.md for the full list).
 * @example
 * normalizePath("reports/./q3.md"); // "/reports/q3.md"
 * normalizePath("/data/../etc"); // throws path_outside_root
 */
export function normalizePath(input: string): string {
  if (input.length > MAX_RAW_LENGTH) invalid(`Path is longer than ${MAX_PATH_BYTES} bytes.`);
  if (input === "") invalid("Path is empty; use / for the root.");
  if (LONE_SURROGATE.test(input)) invalid("Path is not valid Unicode (lone surrogate).");
  const nfc = input.normalize("NFC");
  checkCharacters(nfc);

  // One leading and one trailing slash are syntax; any other empty segment is refused
  // (`//server/share` is a UNC path elsewhere, `a//b` is usually a bug in the caller).
  let rest = nfc.startsWith("/") ? nfc.slice(1) : nfc;
  if (rest.startsWith("/")) checkSegment("");
  if (rest.endsWith("/")) rest = rest.slice(0, -1);
  if (rest === "") return ROOT;
  const segments: string[] = [];
  for (const segment of rest.split("/")) {
    checkSegment(segment);
    if (segment !== ".") segments.push(segment);
  }
  if (segments.length === 0) return ROOT;
  if (segments.length > MAX_PATH_DEPTH) invalid(`Path is deeper than ${MAX_PATH_DEPTH} levels.`);
  const path = `/${segments.join("/")}`;
  if (utf8Length(path) > MAX_PATH_BYTES) invalid(`Path is longer than ${MAX_PATH_BYTES} bytes.`);
  return path;
}

/** The parent of a normalised path; `null` for the root. */
export function parentPath(path: string): string | null {
  if (path === ROOT) return null;
  const cut = path.lastIndexOf("/");
  return cut === 0 ? ROOT : path.slice(0, cut);
}

/** The last segment of a normalised path; `""` for the root. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The ancestors of a normalised path below the root, outermost first: `/a/b/c` → `/a`, `/a/b`. */
export function ancestorPaths(path: string): string[] {
  const result: string[] = [];
  for (let parent = parentPath(path); parent && parent !== ROOT; parent = parentPath(parent)) {
    result.unshift(parent);
  }
  return result;
}

/** Escapes LIKE's `%`, `_` and the escape character `\`, so `text` matches only itself. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/**
 * The LIKE pattern (escape `\`) of everything strictly below directory `dir`: `/data/%` for
 * `/data`, which `/data2/x` does not match, and `/100\%/%` for `/100%`.
 */
export function descendantsPattern(dir: string): string {
  return dir === ROOT ? "/%" : `${escapeLike(dir)}/%`;
}
