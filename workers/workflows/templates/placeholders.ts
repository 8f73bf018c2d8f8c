const PLACEHOLDER = /^@(agent|param):([A-Za-z][A-Za-z0-9_]*)$/;

export interface PlaceholderValues {
  /** Created agents' ids by template key. */
  agents: Readonly<Record<string, string>>;
  params: Readonly<Record<string, unknown>>;
}

/** A placeholder a template uses but `values` cannot fill: a mistake in the template itself. */
export class UnknownPlaceholderError extends Error {
  constructor(readonly placeholder: string) {
    super(`no value for the template placeholder "${placeholder}"`);
    this.name = "UnknownPlaceholderError";
  }
}

/**
 * A copy of `value` with every `@agent:<key>` and `@param:<name>` string replaced by its value.
 * Only whole strings are placeholders, so prose and `{{...}}` templates are never rewritten.
 *
 * @throws UnknownPlaceholderError when a placeholder names an agent or parameter `values` lacks.
 * @example
 * fill({ agentId: "@agent:researcher", topK: "@param:topK" }, { agents: { researcher: id }, params: { topK: 5 } });
 * // { agentId: id, topK: 5 }
 */
export function fill<T>(value: T, values: PlaceholderValues): T {
  return fillValue(value, values) as T;
}

function fillValue(value: unknown, values: PlaceholderValues): unknown {
  if (typeof value === "string") {
    const match = PLACEHOLDER.exec(value);
    if (!match) return value;
    const [, kind, name = ""] = match;
    const source: Readonly<Record<string, unknown>> = kind === "agent" ? values.agents : values.params;
    if (!Object.hasOwn(source, name) || source[name] === undefined) throw new UnknownPlaceholderError(value);
    return source[name];
  }
  if (Array.isArray(value)) return value.map((item) => fillValue(item, values));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillValue(v, values)]));
  }
  return value;
}

/** Every placeholder in `value`, e.g. `["@agent:researcher", "@param:model"]`, in order of appearance. */
export function placeholdersIn(value: unknown): string[] {
  if (typeof value === "string") return PLACEHOLDER.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(placeholdersIn);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(placeholdersIn);
  return [];
}
