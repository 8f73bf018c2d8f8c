import { describe, expect, test } from "vitest";
import { ToolError } from "../../server/types";
import { MAX_NAME_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH, MAX_PATTERN_LENGTH } from "./limits";
import {
  ancestorPaths,
  baseName,
  descendantsPattern,
  escapeLike,
  normalizePath,
  parentPath,
  utf8Length,
} from "./paths";
import { compileNamePattern } from "./pattern";

const OUTSIDE = "path_outside_root";
const INVALID = "invalid_path";

/** [what it tries, the input, the reason it is refused with] */
const attacks: [string, string, string][] = [
  // Traversal: every `..` segment, whether or not it would climb above the root.
  ["parent of a relative path", "../etc/passwd", OUTSIDE],
  ["parent of the root", "/../etc/passwd", OUTSIDE],
  ["climbing out of a subdirectory", "/data/../../etc", OUTSIDE],
  ["trailing ..", "data/..", OUTSIDE],
  ["harmless-looking .. in the middle", "a/../b", OUTSIDE],
  ["bare ..", "..", OUTSIDE],
  ["home directory", "~/secrets", OUTSIDE],
  ["another user's home", "~root/.ssh/id_rsa", OUTSIDE],
  ["Windows drive letter", "C:/Windows/win.ini", OUTSIDE],
  ["bare drive letter", "c:", OUTSIDE],
  // Percent-encoding, which is never decoded.
  ["encoded dots", "%2e%2e/etc", INVALID],
  ["encoded dots and slash, upper case", "%2E%2E%2Fetc", INVALID],
  ["encoded slash after dots", "..%2fetc", INVALID],
  ["double-encoded dots", "%252e%252e/etc", INVALID],
  ["overlong UTF-8 slash", "..%c0%afetc", INVALID],
  ["IIS %u encoding", "%u002e%u002e/etc", INVALID],
  ["encoded NUL", "file%00.md", INVALID],
  // Backslashes and Windows forms.
  ["backslash traversal", "..\\etc", INVALID],
  ["UNC path with backslashes", "\\\\server\\share", INVALID],
  ["drive letter with backslash", "C:\\Windows", INVALID],
  ["alternate data stream", "notes.txt::$DATA", INVALID],
  ["URL scheme", "file:///etc/passwd", INVALID],
  // Control characters.
  ["NUL byte", "file\u0000.md", INVALID],
  ["newline", "a\nb", INVALID],
  ["tab", "a\tb", INVALID],
  ["DEL", "a\u007fb", INVALID],
  ["C1 control (NEL)", "a\u0085b", INVALID],
  // Bidi, zero-width and other invisible characters.
  ["right-to-left override", "evil\u202Etxt.md", INVALID],
  ["left-to-right isolate", "a\u2066b", INVALID],
  ["right-to-left mark", "a\u200Fb", INVALID],
  ["zero-width space", "a\u200Bb", INVALID],
  ["zero-width joiner", "a\u200Db", INVALID],
  ["byte order mark", "\uFEFFa", INVALID],
  ["soft hyphen", "a\u00ADb", INVALID],
  ["tag character", "a\u{E0041}b", INVALID],
  ["Hangul filler", "a\u3164b", INVALID],
  ["variation selector", "a\uFE0Fb", INVALID],
  ["braille blank", "a\u2800b", INVALID],
  ["private use character", "a\uE000b", INVALID],
  ["noncharacter", "a\uFFFFb", INVALID],
  ["lone surrogate", "a\uD800b", INVALID],
  // Look-alikes of '.', '/', '\', '~' and ':'.
  ["fullwidth dots", "\uFF0E\uFF0E/etc", INVALID],
  ["fullwidth solidus", "\uFF0Fetc\uFF0Fpasswd", INVALID],
  ["fullwidth reverse solidus", "a\uFF3Cb", INVALID],
  ["two dot leader", "\u2025/etc", INVALID],
  ["one dot leader", "\u2024\u2024/etc", INVALID],
  ["small full stop", "\uFE52\uFE52/etc", INVALID],
  ["ideographic full stop", "a\u3002b", INVALID],
  ["division slash", "a\u2215b", INVALID],
  ["fraction slash", "a\u2044b", INVALID],
  ["big solidus", "a\u29F8b", INVALID],
  ["combining long solidus overlay", "a\u0338b", INVALID],
  ["account-of sign (NFKC a/c)", "\u2100", INVALID],
  ["fullwidth tilde", "\uFF5Eroot", INVALID],
  ["fullwidth colon", "C\uFF1A/x", INVALID],
  // Spaces that are not U+0020, and spaces that hide at the ends of a name.
  ["no-break space", "a\u00A0b", INVALID],
  ["ideographic space", "a\u3000b", INVALID],
  ["line separator", "a\u2028b", INVALID],
  ["trailing space in a name", "/a /b", INVALID],
  ["leading space in a name", "/ a", INVALID],
  ["name of spaces only", "/ /b", INVALID],
  // Empty and dot-only segments.
  ["empty path", "", INVALID],
  ["leading double slash (UNC)", "//server/share", INVALID],
  ["empty segment", "a//b", INVALID],
  ["double trailing slash", "a//", INVALID],
  ["three dots", "/a/.../b", INVALID],
  // Length.
  ["name over 255 bytes", "a".repeat(MAX_NAME_BYTES + 1), INVALID],
  ["name over 255 bytes in two-byte characters", "é".repeat(128), INVALID],
  ["path over 1024 bytes", `/${"a".repeat(200)}`.repeat(6), INVALID],
  ["path deeper than 32 levels", "/a".repeat(MAX_PATH_DEPTH + 1), INVALID],
  ["megabyte of input", "a/".repeat(500_000), INVALID],
];

/** [input, canonical path] */
const accepted: [string, string][] = [
  ["/", "/"],
  [".", "/"],
  ["./", "/"],
  ["/.", "/"],
  ["notes.md", "/notes.md"],
  ["/notes.md", "/notes.md"],
  ["a/b/", "/a/b"],
  ["./a/./b/.", "/a/b"],
  ["/a_b", "/a_b"],
  ["/100%", "/100%"],
  ["/50% done", "/50% done"],
  [".hidden", "/.hidden"],
  ["a..b", "/a..b"],
  ["backup~", "/backup~"],
  ["my notes.md", "/my notes.md"],
  ["e\u0301t\u00e9.md", "/\u00e9t\u00e9.md"],
  ["日本語/ファイル.txt", "/日本語/ファイル.txt"],
  ["emoji 😀.md", "/emoji 😀.md"],
  ["½.md", "/½.md"],
  ["a".repeat(MAX_NAME_BYTES), `/${"a".repeat(MAX_NAME_BYTES)}`],
  ["/a".repeat(MAX_PATH_DEPTH), "/a".repeat(MAX_PATH_DEPTH)],
];

function refusal(input: string): ToolError {
  try {
    normalizePath(input);
  } catch (error) {
    if (error instanceof ToolError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("normalizePath", () => {
  test(`refuses ${attacks.length} traversal, encoded, invisible and confusable paths`, () => {
    const wrong = attacks
      .map(([what, input, reason]) => {
        let got: string;
        try {
          got = refusal(input).reason;
        } catch (error) {
          got = String(error);
        }
        return got === reason ? null : `${what}: expected ${reason}, got ${got}`;
      })
      .filter((line) => line !== null);
    expect(wrong).toEqual([]);
    expect(attacks.length).toBeGreaterThanOrEqual(70);
  });

  test.each(attacks)("refuses %s", (_what, input, reason) => {
    const error = refusal(input);
    expect(error.reason).toBe(reason);
    expect(error.message.length).toBeGreaterThan(0);
  });

  test(`accepts and canonicalises ${accepted.length} ordinary paths`, () => {
    for (const [input, path] of accepted) expect(normalizePath(input), JSON.stringify(input)).toBe(path);
  });

  test("stores NFC, so composed and decomposed spellings are one path", () => {
    expect(normalizePath("/cafe\u0301.md")).toBe(normalizePath("/caf\u00e9.md"));
  });

  test("limits are in UTF-8 bytes, not characters", () => {
    expect(utf8Length("é")).toBe(2);
    expect(normalizePath("é".repeat(127))).toBe(`/${"é".repeat(127)}`);
    const fiveNames = `/${"a".repeat(200)}`.repeat(5);
    const longest = `${fiveNames}/${"a".repeat(MAX_PATH_BYTES - fiveNames.length - 1)}`;
    expect(utf8Length(longest)).toBe(MAX_PATH_BYTES);
    expect(normalizePath(longest)).toBe(longest);
    expect(refusal(`${longest}b`).reason).toBe(INVALID);
  });

  test("is idempotent on everything it accepts", () => {
    for (const [, path] of accepted) expect(normalizePath(path)).toBe(path);
  });
});

describe("path helpers", () => {
  test("parentPath, baseName and ancestorPaths", () => {
    expect(parentPath("/")).toBeNull();
    expect(parentPath("/a")).toBe("/");
    expect(parentPath("/a/b/c")).toBe("/a/b");
    expect(baseName("/")).toBe("");
    expect(baseName("/a/b.md")).toBe("b.md");
    expect(ancestorPaths("/")).toEqual([]);
    expect(ancestorPaths("/a")).toEqual([]);
    expect(ancestorPaths("/a/b/c")).toEqual(["/a", "/a/b"]);
  });

  test("escapeLike and descendantsPattern escape LIKE's wildcards and keep /data apart from /data2", () => {
    expect(escapeLike("100%_a\\b")).toBe("100\\%\\_a\\\\b");
    expect(descendantsPattern("/")).toBe("/%");
    expect(descendantsPattern("/data")).toBe("/data/%");
    expect(descendantsPattern("/a_b")).toBe("/a\\_b/%");
    expect(descendantsPattern("/100%")).toBe("/100\\%/%");
  });
});

describe("compileNamePattern", () => {
  test.each([
    ["*.md", { kind: "glob", like: "%.md" }],
    ["report-????.csv", { kind: "glob", like: "report-____.csv" }],
    ["a_b*", { kind: "glob", like: "a\\_b%" }],
    ["invoice", { kind: "substring", like: "%invoice%" }],
    ["100%", { kind: "substring", like: "%100\\%%" }],
    ["a_b", { kind: "substring", like: "%a\\_b%" }],
  ])("compiles %s", (pattern, expected) => {
    expect(compileNamePattern(pattern)).toEqual(expected);
  });

  test.each([
    ["empty", ""],
    ["a path", "docs/*.md"],
    ["a control character", "a\nb"],
    ["too long", "a".repeat(MAX_PATTERN_LENGTH + 1)],
  ])("refuses %s", (_what, pattern) => {
    expect(() => compileNamePattern(pattern)).toThrow(expect.objectContaining({ reason: "invalid_pattern" }));
  });
});
