import type { Cursor } from "./cursor";
import { ExpressionError } from "./errors";
import type { CompiledJsonPath } from "./jsonpath";
import { appendLocation } from "./location";

export const REFERENCE_ROOTS = ["input", "steps", "env"] as const;
export type ReferenceRoot = (typeof REFERENCE_ROOTS)[number];

/** A variable a template or JSONPath reads, for validation. */
export interface VariableReference {
  root: ReferenceRoot;
  /**
   * The keys after the root, as written; for `steps` the first is the step id:
   * `steps.fetch.output.items[0]` is `["fetch", "output", "items", 0]`. For a JSONPath, only
   * the leading definite part (`$.steps.fetch.output.items[*].id` gives `fetch, output, items`).
   */
  segments: (string | number)[];
  /** The step read, for `steps.<id>...`. */
  stepId?: string;
  /** The reference as written: the template path, or the whole JSONPath. */
  raw: string;
}

const STEP_FIELDS = ["output", "status"];

/**
 * Checks that a path reads something that exists in a context: a known root, and under `steps`
 * a step id followed by `output` or `status`.
 *
 * @throws {ExpressionError} for any other root or a malformed `steps` path.
 */
export function toReference(root: string, segments: (string | number)[], raw: string): VariableReference {
  if (!(REFERENCE_ROOTS as readonly string[]).includes(root)) {
    throw new ExpressionError(`${raw}: unknown root "${root}"; a reference starts with input, steps or env`);
  }
  const reference: VariableReference = { root: root as ReferenceRoot, segments, raw };
  if (root !== "steps" || segments.length === 0) return reference;
  const [stepId, field] = segments;
  if (typeof stepId !== "string") throw new ExpressionError(`${raw}: write steps.<step id>, not an index`);
  if (field !== undefined && !STEP_FIELDS.includes(String(field))) {
    throw new ExpressionError(`${raw}: a step has only .output and .status`);
  }
  if (field === "status" && segments.length > 2) {
    throw new ExpressionError(`${raw}: .status is a string; nothing can follow it`);
  }
  reference.stepId = stepId;
  return reference;
}

/** `steps.fetch.output["a b"][0]`: how a path is written in a template. */
export function formatReference(root: string, segments: readonly (string | number)[]): string {
  return segments.reduce<string>(appendLocation, root);
}

/**
 * Reads a template path (`input.a[0]["b c"]`) at the cursor; stops at the first character
 * that cannot continue it.
 *
 * @throws {ExpressionError} on bad syntax or an unknown root.
 */
export function readReference(cursor: Cursor): VariableReference {
  const start = cursor.pos;
  const root = cursor.name();
  if (root === undefined) cursor.fail("expected input, steps or env");
  const segments: (string | number)[] = [];
  for (;;) {
    if (cursor.eat(".")) {
      const name = cursor.name();
      if (name === undefined) cursor.fail("expected a name after '.'");
      segments.push(name);
    } else if (cursor.eat("[")) {
      cursor.skipSpaces();
      const key = cursor.quoted() ?? cursor.integer();
      if (key === undefined) cursor.fail("expected an index or a quoted key");
      cursor.skipSpaces();
      cursor.expect("]", "to close the brackets");
      segments.push(key);
    } else {
      return toReference(root, segments, cursor.text.slice(start, cursor.pos));
    }
  }
}

/**
 * The variable a JSONPath reads, from its leading names and indexes: `$.steps.a.output[*]`
 * reads `steps.a.output`. None for a path that does not start with a name (`$`, `$..id`, `$.*`).
 *
 * @throws {ExpressionError} when the leading names cannot match anything in a context.
 */
export function jsonPathReference(path: CompiledJsonPath): VariableReference | undefined {
  const keys: (string | number)[] = [];
  for (const { descendant, selectors } of path.segments) {
    const [selector] = selectors;
    if (descendant || selectors.length !== 1 || selector === undefined) break;
    if (selector.kind === "name") keys.push(selector.name);
    else if (selector.kind === "index") keys.push(selector.index);
    else break;
  }
  const [root, ...segments] = keys;
  if (root === undefined) return undefined;
  if (typeof root === "number") {
    throw new ExpressionError(`${path.source}: start with $.input, $.steps or $.env, not an index`);
  }
  return toReference(root, segments, path.source);
}
