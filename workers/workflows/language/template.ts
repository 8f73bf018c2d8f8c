import type { TemplateValue } from "../definition/schema";
import { contextDocument, type ExpressionContext } from "./context";
import { Cursor } from "./cursor";
import { ExpressionError, UnresolvedVariableError, withLocation } from "./errors";
import { isJsonObject } from "./json";
import { compileJsonPath, queryJsonPath } from "./jsonpath";
import { appendLocation } from "./location";
import { lookupReference } from "./lookup";
import { jsonPathReference, readReference, type VariableReference } from "./reference";

/** A reference and where it sits in the value it came from (`arguments.url`, `body.items[0]`). */
export interface LocatedReference extends VariableReference {
  location: string;
}

type Part = string | VariableReference;

const PATH_KEY = "$path";

/**
 * Resolves templates and `{"$path": ...}` selections anywhere in a value. A string that is
 * exactly one template keeps the value's JSON type; values read from the context are never
 * resolved again, so an input holding "{{env.KEY}}" stays that text.
 *
 * @throws {UnresolvedVariableError} when a reference or a definite `$path` has no value.
 * @throws {ExpressionError} on bad syntax.
 * @example
 * resolveValue({ id: "{{input.id}}", note: "for {{input.name}}" }, ctx, "steps[0].arguments");
 */
export function resolveValue(value: TemplateValue, ctx: ExpressionContext, location?: string): unknown {
  if (typeof value === "string") {
    return withLocation(location, () => {
      const parts = parseTemplate(value);
      const [only] = parts;
      if (parts.length === 1 && typeof only === "object") return lookupReference(only, ctx, location);
      return renderParts(parts, ctx, location);
    });
  }
  if (Array.isArray(value))
    return value.map((item, i) => resolveValue(item, ctx, appendLocation(location ?? "", i)));
  if (!isJsonObject(value)) return value;
  const path = withLocation(location, () => pathSelector(value));
  if (path !== undefined) return withLocation(location, () => selectPath(path, ctx, location));
  const resolved: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    resolved[key] = resolveValue(item, ctx, appendLocation(location ?? "", key));
  return resolved;
}

/**
 * Renders every template into the string: strings as they are, numbers and booleans with
 * String, null as "null", objects and arrays as JSON.
 *
 * @throws {UnresolvedVariableError} when a reference has no value.
 * @throws {ExpressionError} on bad syntax.
 */
export function renderString(template: string, ctx: ExpressionContext, location?: string): string {
  return withLocation(location, () => renderParts(parseTemplate(template), ctx, location));
}

/**
 * Every variable a value reads, through templates and `$path` selections.
 *
 * @throws {ExpressionError} on the first bad template or JSONPath.
 */
export function templateReferences(value: unknown): VariableReference[] {
  const { references, errors } = scanTemplateValue(value, "");
  if (errors[0]) throw errors[0];
  return references.map(({ location: _, ...reference }) => reference);
}

/** Like `templateReferences`, but collects every error, each with its location, for validation. */
export function scanTemplateValue(
  value: unknown,
  location: string,
): { references: LocatedReference[]; errors: ExpressionError[] } {
  const references: LocatedReference[] = [];
  const errors: ExpressionError[] = [];
  const visit = (node: unknown, at: string) => {
    try {
      if (typeof node === "string") {
        for (const part of parseTemplate(node))
          if (typeof part === "object") references.push({ ...part, location: at });
      } else if (Array.isArray(node)) {
        for (const [i, item] of node.entries()) visit(item, appendLocation(at, i));
      } else if (isJsonObject(node)) {
        const path = pathSelector(node);
        if (path === undefined) {
          for (const [key, item] of Object.entries(node)) visit(item, appendLocation(at, key));
          return;
        }
        const reference = jsonPathReference(compileJsonPath(path));
        if (reference) references.push({ ...reference, location: at });
      }
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      errors.push(new ExpressionError(error.detail, at || undefined));
    }
  };
  visit(value, location);
  return { references, errors };
}

/** Whether a string holds a template at all (it may still be malformed). */
export function hasTemplate(text: string): boolean {
  return text.includes("{{");
}

/**
 * Splits text into literal parts and references. A `{{` must be closed by `}}`; a `}}` with no
 * `{{` before it is literal text, so JSON such as `{"a": {"b": 1}}` in a prompt stays valid.
 */
function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let pos = 0;
  for (let open = text.indexOf("{{"); open !== -1; open = text.indexOf("{{", pos)) {
    if (open > pos) parts.push(text.slice(pos, open));
    const cursor = new Cursor(text, `template ${snippet(text, open)}`, open + 2);
    cursor.skipSpaces();
    if (cursor.peek(2) === "}}")
      cursor.fail("empty template; write {{input.x}}, {{steps.<id>.output}} or {{env.X}}");
    parts.push(readReference(cursor));
    cursor.skipSpaces();
    cursor.expect("}}", "to close the template");
    pos = cursor.pos;
  }
  if (pos < text.length) parts.push(text.slice(pos));
  return parts;
}

function renderParts(parts: Part[], ctx: ExpressionContext, location: string | undefined): string {
  let text = "";
  for (const part of parts) {
    if (typeof part === "string") {
      text += part;
      continue;
    }
    const value = lookupReference(part, ctx, location);
    text +=
      typeof value === "string"
        ? value
        : value !== null && typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
  }
  return text;
}

/** The JSONPath of a `{"$path": ...}` selection, or undefined for any other object. */
function pathSelector(value: Record<string, unknown>): string | undefined {
  if (!Object.hasOwn(value, PATH_KEY)) return undefined;
  const path = value[PATH_KEY];
  if (Object.keys(value).length !== 1)
    throw new ExpressionError(`an object with "$path" can have no other keys`);
  if (typeof path !== "string")
    throw new ExpressionError(`"$path" must be a JSONPath string such as "$.input.items"`);
  return path;
}

function selectPath(path: string, ctx: ExpressionContext, location: string | undefined): unknown {
  const compiled = compileJsonPath(path);
  const matches = queryJsonPath(compiled, contextDocument(ctx));
  if (!compiled.definite) return matches;
  if (matches.length === 0) throw new UnresolvedVariableError(path, "selects nothing", location);
  return matches[0];
}

function snippet(text: string, open: number): string {
  const close = text.indexOf("}}", open);
  const end = close === -1 ? open + 40 : Math.min(close + 2, open + 80);
  return JSON.stringify(text.slice(open, end));
}
