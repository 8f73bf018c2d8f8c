import { type Schema, type SchemaDraft, Validator } from "@cfworker/json-schema";

export interface SchemaIssue {
  /** Where in the value, dotted (`items.0.name`), or `(root)`. */
  path: string;
  message: string;
}

/** Issues reported at most; a huge invalid payload should not make a huge error. */
const MAX_ISSUES = 20;

/**
 * Where `value` breaks the JSON Schema `schema` (empty when it conforms). The CfWorker
 * validator interprets the schema without compiling code: Ajv's `new Function` is refused by
 * workerd. The draft is the one `$schema` names, else 2020-12.
 *
 * @throws Error when the schema itself cannot be used.
 */
export function schemaIssues(schema: Record<string, unknown>, value: unknown): SchemaIssue[] {
  const result = new Validator(schema as Schema, draftOf(schema), false).validate(value);
  if (result.valid) return [];
  return result.errors.slice(0, MAX_ISSUES).map((e) => ({
    path: e.instanceLocation.replace(/^#\/?/, "").replaceAll("/", ".") || "(root)",
    message: e.error,
  }));
}

function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const declared = typeof schema.$schema === "string" ? schema.$schema : "";
  if (declared.includes("draft-04")) return "4";
  if (declared.includes("draft-07") || declared.includes("draft-06")) return "7";
  if (declared.includes("2019-09")) return "2019-09";
  return "2020-12";
}
