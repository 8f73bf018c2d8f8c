/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The value at `key` of `value`, or undefined. Only own properties count, so `__proto__` or
 * `constructor` in a path never reaches the prototype.
 */
export function childAt(value: unknown, key: string | number): unknown {
  if (typeof key === "number") {
    if (!Array.isArray(value)) return undefined;
    return value[key < 0 ? value.length + key : key];
  }
  if (!isJsonObject(value) || !Object.hasOwn(value, key)) return undefined;
  return value[key];
}

/** "a string", "an array", "null": for messages about a value of the wrong kind. */
export function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value === "number" ? "a number" : `a ${typeof value}`;
}

/**
 * Deep equality of JSON values: same type, same array order, same object keys (in any order).
 * Iterative, so a deeply nested document cannot overflow the stack.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  for (let pair = pending.pop(); pair; pair = pending.pop()) {
    const [x, y] = pair;
    if (x === y) continue;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) pending.push([x[i], y[i]]);
      continue;
    }
    if (!isJsonObject(x) || !isJsonObject(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      pending.push([x[key], y[key]]);
    }
  }
  return true;
}
