import { decodeText } from "./decode";
import { type ParsedDocument, type Section, UnparseableDocumentError } from "./types";

/**
 * Parses `application/json` into one line per leaf, `path.to.key: value` (array items as
 * `items[0].name`), so the chunker and full-text search see every key next to its value.
 * Each top-level key (or item of a top-level array) starts a level-1 section, which lets the
 * chunker keep records whole.
 *
 * @throws UnparseableDocumentError when the text is not JSON.
 * @example
 * parseJson(new TextEncoder().encode('{"a":{"b":[1,true]}}')).text // "a.b[0]: 1\na.b[1]: true"
 */
export function parseJson(bytes: Uint8Array): ParsedDocument {
  const source = decodeText(bytes);
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new UnparseableDocumentError(`document is not valid JSON: ${(error as Error).message}`);
  }
  return renderJson(value);
}

type Frame = { path: string; value: unknown; depth: number };

/**
 * Renders a parsed JSON value as `path: value` lines. Walks with an explicit stack rather
 * than recursion: JSON.parse accepts nesting deep enough to overflow the call stack.
 *
 * @example
 * renderJson({ "two words": ["x"] }).text // '["two words"][0]: x'
 */
export function renderJson(root: unknown): ParsedDocument {
  const lines: string[] = [];
  const sections: Section[] = [];
  let offset = 0;
  const stack: Frame[] = [{ path: "", value: root, depth: 0 }];
  while (stack.length > 0) {
    const { path, value, depth } = stack.pop() as Frame;
    if (depth === 1) sections.push({ start: offset, level: 1, title: path });
    const children = childrenOf(path, value, depth);
    if (children === null || children.length === 0) {
      // An empty object or array at the root says nothing; elsewhere its key still does.
      if (depth === 0 && children !== null) continue;
      const line = leafLine(path, value);
      lines.push(line);
      offset += line.length + 1;
      continue;
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Frame);
  }
  return { text: lines.join("\n"), pages: null, sections };
}

function childrenOf(path: string, value: unknown, depth: number): Frame[] | null {
  if (Array.isArray(value)) {
    return value.map((item, i) => ({ path: `${path}[${i}]`, value: item, depth: depth + 1 }));
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value).map(([key, item]) => ({
      path: joinKey(path, key),
      value: item,
      depth: depth + 1,
    }));
  }
  return null;
}

const IDENTIFIER = /^[\p{L}_$][\p{L}\p{N}_$-]*$/u;

function joinKey(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === "" ? key : `${path}.${key}`;
}

function leafLine(path: string, value: unknown): string {
  const rendered = renderLeaf(value);
  return path === "" ? rendered : `${path}: ${rendered}`;
}

function renderLeaf(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return "[]";
  if (value !== null && typeof value === "object") return "{}";
  return String(value);
}
