const PLAIN_NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * A path one key deeper, written the way templates and problem paths are:
 * `steps[2]` + `arguments` = `steps[2].arguments`; `headers` + `a b` = `headers["a b"]`.
 */
export function appendLocation(location: string, key: string | number): string {
  if (typeof key === "number") return `${location}[${key}]`;
  if (!PLAIN_NAME.test(key)) return `${location}[${JSON.stringify(key)}]`;
  return location ? `${location}.${key}` : key;
}
