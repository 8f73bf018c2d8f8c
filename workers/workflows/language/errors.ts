/**
 * A template, JSONPath or condition that cannot be parsed or evaluated. The message says what
 * went wrong and, when the caller said where the expression sits, where:
 * `steps.fetch.output.items: "fetch" has not run (at steps[2].arguments.url)`.
 */
export class ExpressionError extends Error {
  override name = "ExpressionError";
  /** Where the expression sits in the definition, e.g. `steps[2].arguments.url`. */
  readonly location: string | undefined;
  /** The message without the location, for callers that report the location separately. */
  readonly detail: string;

  constructor(detail: string, location?: string) {
    super(location ? `${detail} (at ${location})` : detail);
    this.detail = detail;
    this.location = location;
  }
}

/**
 * A reference whose value is undefined: a missing key, an index out of range, a step that has
 * not run. It fails the step rather than becoming "" or undefined, so a typo never sends an
 * empty string to an agent or an API.
 */
export class UnresolvedVariableError extends ExpressionError {
  override name = "UnresolvedVariableError";
  /** The reference as written, e.g. `steps.fetch.output.items[0]` or a `$path` JSONPath. */
  readonly reference: string;
  /** Why it has no value, e.g. `"fetch" has not run`. */
  readonly reason: string;

  constructor(reference: string, reason: string, location?: string) {
    super(`${reference}: ${reason}`, location);
    this.reference = reference;
    this.reason = reason;
  }
}

/** Runs `fn`, adding `location` to an ExpressionError that does not say where it happened. */
export function withLocation<T>(location: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!location || !(error instanceof ExpressionError) || error.location !== undefined) throw error;
    if (error instanceof UnresolvedVariableError) {
      throw new UnresolvedVariableError(error.reference, error.reason, location);
    }
    throw new ExpressionError(error.detail, location);
  }
}
