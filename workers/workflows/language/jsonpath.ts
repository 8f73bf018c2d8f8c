import { ExpressionError } from "./errors";
import { childAt, isJsonObject, jsonEqual } from "./json";
import { type Filter, parseJsonPath, type Segment, type Selector } from "./jsonpath-syntax";

/** A parsed JSONPath; compile once and query many times. */
export interface CompiledJsonPath {
  readonly source: string;
  readonly segments: readonly Segment[];
  /**
   * Only names and single indexes: the path selects at most one value. Anything else
   * (wildcard, slice, union, filter, `..`) selects a list, possibly empty.
   */
  readonly definite: boolean;
}

/** More matches than this fail the query rather than build a huge list. */
export const MAX_JSONPATH_MATCHES = 10_000;
// Nodes visited per query. `$..*..*` over a large document grows as the square of its size;
// the budget fails such a query in milliseconds instead of hanging the isolate.
const MAX_JSONPATH_WORK = 1_000_000;

/**
 * @throws {ExpressionError} on bad syntax.
 * @example
 * const ids = compileJsonPath("$.steps.fetch.output.items[*].id");
 */
export function compileJsonPath(path: string): CompiledJsonPath {
  const segments = parseJsonPath(path);
  const definite = segments.every(
    (segment) =>
      !segment.descendant &&
      segment.selectors.length === 1 &&
      (segment.selectors[0]?.kind === "name" || segment.selectors[0]?.kind === "index"),
  );
  return { source: path, segments, definite };
}

/**
 * Every value the path selects, in document order. Keys whose value is undefined do not match.
 *
 * @throws {ExpressionError} on bad syntax, more than 10 000 matches, or a query that would visit
 *   more than a million nodes.
 * @example
 * queryJsonPath("$.items[?(@.price < 10)].name", { items: [{ name: "a", price: 5 }] }); // ["a"]
 */
export function queryJsonPath(path: CompiledJsonPath | string, root: unknown): unknown[] {
  const compiled = typeof path === "string" ? compileJsonPath(path) : path;
  const query = new Query(compiled.source);
  let nodes: unknown[] = root === undefined ? [] : [root];
  for (const segment of compiled.segments) {
    const candidates = segment.descendant ? query.descendants(nodes) : nodes;
    const matches: unknown[] = [];
    for (const node of candidates) {
      for (const selector of segment.selectors) query.select(node, selector, matches);
    }
    nodes = matches;
  }
  return nodes;
}

class Query {
  private work = 0;

  constructor(private readonly source: string) {}

  /** Each node followed by everything below it, depth first. */
  descendants(nodes: unknown[]): unknown[] {
    const out: unknown[] = [];
    for (const start of nodes) {
      const stack = [start];
      while (stack.length > 0) {
        const node = stack.pop();
        this.spend();
        out.push(node);
        const children = childrenOf(node);
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
      }
    }
    return out;
  }

  select(node: unknown, selector: Selector, out: unknown[]): void {
    switch (selector.kind) {
      case "name":
      case "index":
        this.add(out, childAt(node, selector.kind === "name" ? selector.name : selector.index));
        return;
      case "wildcard":
        for (const child of childrenOf(node)) this.add(out, child);
        return;
      case "slice":
        if (Array.isArray(node)) for (const i of sliceIndexes(node.length, selector)) this.add(out, node[i]);
        return;
      case "filter":
        for (const child of childrenOf(node)) {
          this.spend();
          if (holds(selector.filter, child)) this.add(out, child);
        }
        return;
    }
  }

  private add(out: unknown[], value: unknown): void {
    if (value === undefined) return;
    this.spend();
    if (out.length >= MAX_JSONPATH_MATCHES) {
      throw new ExpressionError(`JSONPath ${this.label()}: selects more than ${MAX_JSONPATH_MATCHES} values`);
    }
    out.push(value);
  }

  private spend(): void {
    if (++this.work > MAX_JSONPATH_WORK) {
      throw new ExpressionError(`JSONPath ${this.label()}: visits too many values; narrow the path`);
    }
  }

  private label(): string {
    return JSON.stringify(this.source.length > 80 ? `${this.source.slice(0, 80)}…` : this.source);
  }
}

function childrenOf(node: unknown): unknown[] {
  if (Array.isArray(node)) return node;
  return isJsonObject(node) ? Object.values(node) : [];
}

/** RFC 9535 §2.3.4.2.2: the indexes a slice selects, in order, negative steps included. */
function* sliceIndexes(
  length: number,
  { start, end, step = 1 }: { start: number | undefined; end: number | undefined; step: number | undefined },
): Generator<number> {
  if (step === 0) return;
  const normalize = (i: number) => (i >= 0 ? i : length + i);
  const clamp = (i: number, low: number, high: number) => Math.min(Math.max(i, low), high);
  if (step > 0) {
    const upper = clamp(normalize(end ?? length), 0, length);
    for (let i = clamp(normalize(start ?? 0), 0, length); i < upper; i += step) yield i;
  } else {
    const lower = clamp(normalize(end ?? -length - 1), -1, length - 1);
    for (let i = clamp(normalize(start ?? length - 1), -1, length - 1); i > lower; i += step) yield i;
  }
}

/**
 * A missing value (`@.a` where there is no `a`) equals nothing, so `==` and the orderings are
 * false and `!=` is true, as in RFC 9535; `null` is a value.
 */
function holds(filter: Filter, node: unknown): boolean {
  let value = node;
  for (const key of filter.path) value = childAt(value, key);
  if (filter.kind === "exists") return value !== undefined;
  const { op, literal } = filter;
  if (op === "==") return value !== undefined && jsonEqual(value, literal);
  if (op === "!=") return value === undefined || !jsonEqual(value, literal);
  const comparable =
    (typeof value === "number" && typeof literal === "number") ||
    (typeof value === "string" && typeof literal === "string");
  if (!comparable) return false;
  const [a, b] = [value, literal] as [number | string, number | string];
  if (op === "<") return a < b;
  if (op === "<=") return a <= b;
  if (op === ">") return a > b;
  return a >= b;
}
