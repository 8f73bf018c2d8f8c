import {
  dereference,
  ignoredKeyword,
  type OutputUnit,
  type Schema,
  schemaArrayKeyword,
  schemaMapKeyword,
  Validator,
} from "@cfworker/json-schema";
import type { FieldError } from "../../lib/errors";
import { appendLocation } from "../../workflows/language/location";

/**
 * The JSON Schema draft-07 meta-schema (json-schema.org/draft-07/schema). The validator
 * interprets schemas lazily and accepts nearly anything at construction, so a schema is checked
 * against this first: later drafts keep these keywords' shapes, and keywords it does not know
 * (`$defs`, `prefixItems`) pass through unchecked.
 */
const META_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "http://json-schema.org/draft-07/schema#",
  definitions: {
    schemaArray: { type: "array", minItems: 1, items: { $ref: "#" } },
    nonNegativeInteger: { type: "integer", minimum: 0 },
    nonNegativeIntegerDefault0: { allOf: [{ $ref: "#/definitions/nonNegativeInteger" }, { default: 0 }] },
    simpleTypes: { enum: ["array", "boolean", "integer", "null", "number", "object", "string"] },
    stringArray: { type: "array", items: { type: "string" }, uniqueItems: true, default: [] },
  },
  type: ["object", "boolean"],
  properties: {
    $id: { type: "string", format: "uri-reference" },
    $schema: { type: "string", format: "uri" },
    $ref: { type: "string", format: "uri-reference" },
    $comment: { type: "string" },
    title: { type: "string" },
    description: { type: "string" },
    default: true,
    readOnly: { type: "boolean", default: false },
    examples: { type: "array", items: true },
    multipleOf: { type: "number", exclusiveMinimum: 0 },
    maximum: { type: "number" },
    exclusiveMaximum: { type: "number" },
    minimum: { type: "number" },
    exclusiveMinimum: { type: "number" },
    maxLength: { $ref: "#/definitions/nonNegativeInteger" },
    minLength: { $ref: "#/definitions/nonNegativeIntegerDefault0" },
    pattern: { type: "string", format: "regex" },
    additionalItems: { $ref: "#" },
    items: { anyOf: [{ $ref: "#" }, { $ref: "#/definitions/schemaArray" }], default: true },
    maxItems: { $ref: "#/definitions/nonNegativeInteger" },
    minItems: { $ref: "#/definitions/nonNegativeIntegerDefault0" },
    uniqueItems: { type: "boolean", default: false },
    contains: { $ref: "#" },
    maxProperties: { $ref: "#/definitions/nonNegativeInteger" },
    minProperties: { $ref: "#/definitions/nonNegativeIntegerDefault0" },
    required: { $ref: "#/definitions/stringArray" },
    additionalProperties: { $ref: "#" },
    definitions: { type: "object", additionalProperties: { $ref: "#" }, default: {} },
    properties: { type: "object", additionalProperties: { $ref: "#" }, default: {} },
    patternProperties: {
      type: "object",
      additionalProperties: { $ref: "#" },
      propertyNames: { format: "regex" },
      default: {},
    },
    dependencies: {
      type: "object",
      additionalProperties: { anyOf: [{ $ref: "#" }, { $ref: "#/definitions/stringArray" }] },
    },
    propertyNames: { $ref: "#" },
    const: true,
    enum: { type: "array", items: true, minItems: 1, uniqueItems: true },
    type: {
      anyOf: [
        { $ref: "#/definitions/simpleTypes" },
        { type: "array", items: { $ref: "#/definitions/simpleTypes" }, minItems: 1, uniqueItems: true },
      ],
    },
    format: { type: "string" },
    contentMediaType: { type: "string" },
    contentEncoding: { type: "string" },
    if: { $ref: "#" },
    // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword; this object is never awaited.
    then: { $ref: "#" },
    else: { $ref: "#" },
    allOf: { $ref: "#/definitions/schemaArray" },
    anyOf: { $ref: "#/definitions/schemaArray" },
    oneOf: { $ref: "#/definitions/schemaArray" },
    not: { $ref: "#" },
  },
  default: true,
};

/** Built once per isolate: constructing it walks the meta-schema. */
let metaValidator: Validator | undefined;

/** Errors that only say "a subschema had errors"; the one beneath says what is wrong. */
const WRAPPERS = new Set([
  "$ref",
  "properties",
  "additionalProperties",
  "patternProperties",
  "items",
  "allOf",
  "anyOf",
]);

/**
 * What makes `schema` unusable as a workflow's input schema, each with the path of the
 * offending keyword under `inputSchema`; empty when it is usable. Usable means: its root is an
 * object schema (an execution's input is a JSON object), its keywords have the right shapes,
 * its patterns compile, and every `$ref` resolves inside the schema (remote schemas are never
 * fetched).
 *
 * @example
 * inputSchemaProblems({ type: "object", properties: { n: { type: "integger" } } });
 * // [{ path: "inputSchema.properties.n.type", message: "Instance does not match any of [...]" }]
 */
export function inputSchemaProblems(schema: Record<string, unknown>): FieldError[] {
  if ("type" in schema && schema.type !== "object") {
    return [
      { path: "inputSchema.type", message: 'must be "object": an execution\'s input is a JSON object' },
    ];
  }
  metaValidator ??= new Validator(META_SCHEMA as Schema, "7", false);
  const result = metaValidator.validate(schema);
  if (!result.valid) return deepestErrors(result.errors);

  // The validator marks up the schema it walks; the caller's object is stored as sent.
  const copy = structuredClone(schema);
  let lookup: Record<string, unknown>;
  try {
    lookup = dereference(copy as Schema);
  } catch (error) {
    return [{ path: "inputSchema", message: error instanceof Error ? error.message : String(error) }];
  }
  const problems = unresolvedRefs(copy, lookup, "inputSchema");
  if (problems.length > 0) return problems;
  try {
    new Validator(copy as Schema).validate({});
  } catch (error) {
    return [{ path: "inputSchema", message: error instanceof Error ? error.message : String(error) }];
  }
  return [];
}

/** One problem per innermost location that failed, worded by its first non-wrapper error. */
function deepestErrors(errors: OutputUnit[]): FieldError[] {
  const locations = [...new Set(errors.map((e) => e.instanceLocation))];
  const deepest = locations.filter((loc) => !locations.some((other) => other.startsWith(`${loc}/`)));
  return deepest.map((loc) => {
    const here = errors.filter((e) => e.instanceLocation === loc);
    const error = here.find((e) => !WRAPPERS.has(e.keyword)) ?? here[0];
    return { path: pathOf(loc), message: error?.error ?? "invalid" };
  });
}

/** `#/properties/a~1b/required/0` as `inputSchema.properties["a/b"].required[0]`. */
function pathOf(pointer: string): string {
  return pointer
    .replace(/^#\/?/, "")
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s).replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce<string>((at, key) => appendLocation(at, /^\d+$/.test(key) ? Number(key) : key), "inputSchema");
}

/** Walks the schema the way `dereference` does, so every `$ref` it marked is checked. */
function unresolvedRefs(node: unknown, lookup: Record<string, unknown>, path: string): FieldError[] {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return [];
  const problems: FieldError[] = [];
  const { $ref } = node as { $ref?: unknown };
  // Set by `dereference`: the reference resolved against the schema's base URI.
  const absolute = (node as { __absolute_ref__?: string }).__absolute_ref__;
  if (typeof $ref === "string" && (absolute === undefined || lookup[absolute] === undefined)) {
    problems.push({
      path: `${path}.$ref`,
      message: `"${$ref}" does not resolve to a schema inside this one`,
    });
  }
  for (const [key, value] of Object.entries(node)) {
    if (ignoredKeyword[key]) continue;
    if (Array.isArray(value)) {
      if (schemaArrayKeyword[key])
        value.forEach((item, i) => {
          problems.push(...unresolvedRefs(item, lookup, appendLocation(appendLocation(path, key), i)));
        });
    } else if (schemaMapKeyword[key] && value !== null && typeof value === "object") {
      for (const [name, sub] of Object.entries(value))
        problems.push(...unresolvedRefs(sub, lookup, appendLocation(appendLocation(path, key), name)));
    } else {
      problems.push(...unresolvedRefs(value, lookup, appendLocation(path, key)));
    }
  }
  return problems;
}
