import type { Condition, ConditionOperator } from "../definition/schema";
import { contextDocument, type ExpressionContext } from "./context";
import { ExpressionError, withLocation } from "./errors";
import { isJsonObject, jsonEqual } from "./json";
import { compileJsonPath, queryJsonPath } from "./jsonpath";
import { jsonPathReference, type VariableReference } from "./reference";
import { resolveValue, templateReferences } from "./template";

export const MAX_PATTERN_LENGTH = 512;
// `matches` reads only this much of the value: a regex can backtrack for a long time on a
// long string, and a condition has no business scanning megabytes.
const MAX_MATCHED_LENGTH = 10_000;

/**
 * Whether a condition holds. A path that selects nothing makes every operator but `exists`
 * false; a definite path compares its one value, any other path compares the list of matches.
 *
 * @throws {UnresolvedVariableError} when a template in `value` has no value.
 * @throws {ExpressionError} on a bad JSONPath, template or `matches` pattern.
 * @example
 * evaluateCondition({ path: "$.steps.check.output.score", op: "gte", value: 0.8 }, ctx);
 */
export function evaluateCondition(condition: Condition, ctx: ExpressionContext, location?: string): boolean {
  if (condition.all)
    return condition.all.every((c, i) => evaluateCondition(c, ctx, at(location, `all[${i}]`)));
  if (condition.any)
    return condition.any.some((c, i) => evaluateCondition(c, ctx, at(location, `any[${i}]`)));
  if (condition.not) return !evaluateCondition(condition.not, ctx, at(location, "not"));
  const { path, op } = condition;
  if (path === undefined || op === undefined) {
    throw new ExpressionError("a condition needs path and op, or all, any or not", location);
  }
  const expected =
    op === "exists" || condition.value === undefined
      ? undefined
      : resolveValue(condition.value, ctx, at(location, "value"));
  return withLocation(at(location, "path"), () => {
    const compiled = compileJsonPath(path);
    const matches = queryJsonPath(compiled, contextDocument(ctx));
    if (op === "exists") return matches.length > 0;
    if (matches.length === 0) return false;
    return compare(op, compiled.definite ? matches[0] : matches, expected);
  });
}

/**
 * Every variable a condition reads: its paths and the templates in its values.
 *
 * @throws {ExpressionError} on a bad JSONPath or template.
 */
export function conditionReferences(condition: Condition): VariableReference[] {
  const nested = [
    ...(condition.all ?? []),
    ...(condition.any ?? []),
    ...(condition.not ? [condition.not] : []),
  ];
  const references = nested.flatMap(conditionReferences);
  if (condition.path !== undefined) {
    const reference = jsonPathReference(compileJsonPath(condition.path));
    if (reference) references.push(reference);
  }
  if (condition.value !== undefined) references.push(...templateReferences(condition.value));
  return references;
}

/**
 * A `matches` pattern, checked the same way at validation and at run time.
 *
 * @throws {ExpressionError} when it is not a string, is too long, or is not a valid regex.
 */
export function compilePattern(pattern: unknown): RegExp {
  if (typeof pattern !== "string") throw new ExpressionError("matches needs a string pattern");
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new ExpressionError(`a matches pattern is at most ${MAX_PATTERN_LENGTH} characters`);
  }
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new ExpressionError(`invalid regular expression: ${(error as Error).message}`);
  }
}

function compare(op: Exclude<ConditionOperator, "exists">, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case "eq":
      return jsonEqual(actual, expected);
    case "ne":
      return !jsonEqual(actual, expected);
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return ordered(op, actual, expected);
    case "in":
      if (Array.isArray(expected)) return expected.some((item) => jsonEqual(actual, item));
      return typeof expected === "string" && typeof actual === "string" && expected.includes(actual);
    case "contains":
      if (Array.isArray(actual)) return actual.some((item) => jsonEqual(item, expected));
      if (typeof expected !== "string") return false;
      if (typeof actual === "string") return actual.includes(expected);
      return isJsonObject(actual) && Object.hasOwn(actual, expected);
    case "matches":
      return typeof actual === "string" && compilePattern(expected).test(actual.slice(0, MAX_MATCHED_LENGTH));
  }
}

/** Numbers with numbers, strings with strings (by code unit); any other pair is false. */
function ordered(op: "gt" | "gte" | "lt" | "lte", actual: unknown, expected: unknown): boolean {
  const comparable =
    (typeof actual === "number" && typeof expected === "number") ||
    (typeof actual === "string" && typeof expected === "string");
  if (!comparable) return false;
  const [a, b] = [actual, expected] as [number | string, number | string];
  if (op === "gt") return a > b;
  if (op === "gte") return a >= b;
  if (op === "lt") return a < b;
  return a <= b;
}

function at(location: string | undefined, key: string): string | undefined {
  return location === undefined ? undefined : `${location}.${key}`;
}
