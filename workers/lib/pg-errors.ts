/** PostgreSQL error codes the API turns into client errors instead of 500s. */
const UNIQUE_VIOLATION = "23505";

function pgCode(error: unknown): string | undefined {
  // drizzle wraps driver errors; the PostgreSQL code sits on the error or its cause.
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Whether the error is a unique-constraint violation (optionally of one named constraint). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (pgCode(error) !== UNIQUE_VIOLATION) return false;
  if (!constraint) return true;
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { constraint?: unknown }).constraint === constraint) return true;
  }
  return false;
}

/**
 * A value PostgreSQL refuses to store: class 22 (data exception, e.g. NUL in text or jsonb) or
 * class 54 (program limit exceeded, e.g. JSON nested deeper than the parser's stack).
 */
export function isUnstorableValue(error: unknown): boolean {
  const code = pgCode(error);
  return code?.startsWith("22") === true || code?.startsWith("54") === true;
}

/**
 * PostgreSQL cannot take the request now: class 53 (insufficient resources, e.g. 53300 too many
 * connections) or 57P03 (cannot connect now: starting up or shutting down). Not the client's
 * fault and not a bug: worth retrying shortly.
 */
export function isDatabaseBusy(error: unknown): boolean {
  const code = pgCode(error);
  return code?.startsWith("53") === true || code === "57P03";
}

/**
 * The connection never reached PostgreSQL (the socket was refused or dropped while opening): an
 * outage, worth retrying. An answer from PostgreSQL itself (an unknown database, a refused
 * password) carries a code and is a fault of the deployment, not this.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  return pgCode(error) === undefined;
}
