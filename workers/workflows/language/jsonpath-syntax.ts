import { Cursor } from "./cursor";
import { ExpressionError } from "./errors";

/**
 * The JSONPath subset workflows use, parsed once. Close to RFC 9535 minus function
 * extensions and boolean logic in filters: `$`, `.name`, `['name']`, `[n]` (negative from
 * the end), `[*]`, `.*`, `..`, `[start:end:step]`, unions `[0,2]`, and filters
 * `[?(@.a.b op literal)]` / `[?(@.a)]`, parentheses optional.
 */
export type Selector =
  | { kind: "name"; name: string }
  | { kind: "index"; index: number }
  | { kind: "wildcard" }
  | { kind: "slice"; start: number | undefined; end: number | undefined; step: number | undefined }
  | { kind: "filter"; filter: Filter };

export type ComparisonOperator = "==" | "!=" | "<" | "<=" | ">" | ">=";
export type Literal = string | number | boolean | null;

export type Filter =
  | { kind: "exists"; path: (string | number)[] }
  | { kind: "compare"; path: (string | number)[]; op: ComparisonOperator; literal: Literal };

export interface Segment {
  /** `..`: apply the selectors to the node and every node below it. */
  descendant: boolean;
  selectors: Selector[];
}

// Two-character operators first, so `>=` is not read as `>`.
const OPERATORS: ComparisonOperator[] = ["==", "!=", "<=", ">=", "<", ">"];
const MAX_SOURCE_LENGTH = 4096;

/** @throws {ExpressionError} on bad syntax. */
export function parseJsonPath(source: string): Segment[] {
  const label = `JSONPath ${JSON.stringify(source.length > 80 ? `${source.slice(0, 80)}…` : source)}`;
  if (source.length > MAX_SOURCE_LENGTH) {
    throw new ExpressionError(`${label}: longer than ${MAX_SOURCE_LENGTH} characters`);
  }
  const cursor = new Cursor(source.trim(), label);
  cursor.expect("$", "at the start");
  const segments: Segment[] = [];
  while (!cursor.done) {
    if (cursor.eat("..")) {
      segments.push({
        descendant: true,
        selectors: cursor.eat("[") ? readBracket(cursor) : [readDotted(cursor)],
      });
    } else if (cursor.eat(".")) {
      segments.push({ descendant: false, selectors: [readDotted(cursor)] });
    } else if (cursor.eat("[")) {
      segments.push({ descendant: false, selectors: readBracket(cursor) });
    } else {
      cursor.fail("expected '.', '..' or '['");
    }
  }
  return segments;
}

function readDotted(cursor: Cursor): Selector {
  if (cursor.eat("*")) return { kind: "wildcard" };
  const name = cursor.name();
  if (name === undefined) cursor.fail("expected a name or '*'");
  return { kind: "name", name };
}

/** The selectors of `[...]`, after the `[`. */
function readBracket(cursor: Cursor): Selector[] {
  const selectors: Selector[] = [];
  do {
    cursor.skipSpaces();
    selectors.push(readSelector(cursor));
    cursor.skipSpaces();
  } while (cursor.eat(","));
  cursor.expect("]", "to close the brackets");
  return selectors;
}

function readSelector(cursor: Cursor): Selector {
  if (cursor.eat("*")) return { kind: "wildcard" };
  if (cursor.eat("?")) return { kind: "filter", filter: readFilter(cursor) };
  const name = cursor.quoted();
  if (name !== undefined) return { kind: "name", name };
  const start = cursor.integer();
  cursor.skipSpaces();
  if (cursor.peek() !== ":") {
    if (start === undefined) cursor.fail("expected a name, an index, a slice, '*' or a filter");
    return { kind: "index", index: start };
  }
  const bound = () => {
    if (!cursor.eat(":")) return undefined;
    cursor.skipSpaces();
    const value = cursor.integer();
    cursor.skipSpaces();
    return value;
  };
  const end = bound();
  const step = bound();
  return { kind: "slice", start, end, step };
}

function readFilter(cursor: Cursor): Filter {
  cursor.skipSpaces();
  const parenthesised = cursor.eat("(");
  cursor.skipSpaces();
  cursor.expect("@", "to start a filter");
  const path = readRelativePath(cursor);
  cursor.skipSpaces();
  const op = OPERATORS.find((candidate) => cursor.eat(candidate));
  let filter: Filter = { kind: "exists", path };
  if (op) {
    cursor.skipSpaces();
    filter = { kind: "compare", path, op, literal: readLiteral(cursor) };
    cursor.skipSpaces();
  }
  if (parenthesised) cursor.expect(")", "to close the filter");
  return filter;
}

/** `.a.b`, `['a b']`, `[0]` after `@`: definite steps only. */
function readRelativePath(cursor: Cursor): (string | number)[] {
  const path: (string | number)[] = [];
  for (;;) {
    if (cursor.eat(".")) {
      const name = cursor.name();
      if (name === undefined) cursor.fail("expected a name after '.'");
      path.push(name);
    } else if (cursor.eat("[")) {
      cursor.skipSpaces();
      const key = cursor.quoted() ?? cursor.integer();
      if (key === undefined) cursor.fail("a filter path takes only names and indexes");
      cursor.skipSpaces();
      cursor.expect("]", "to close the brackets");
      path.push(key);
    } else {
      return path;
    }
  }
}

function readLiteral(cursor: Cursor): Literal {
  const text = cursor.quoted();
  if (text !== undefined) return text;
  const number = cursor.number();
  if (number !== undefined) return number;
  if (cursor.eat("true")) return true;
  if (cursor.eat("false")) return false;
  if (cursor.eat("null")) return null;
  return cursor.fail("expected a number, a quoted string, true, false or null");
}
