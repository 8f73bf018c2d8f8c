import type { ExpressionContext } from "./context";
import { UnresolvedVariableError } from "./errors";
import { childAt, describeKind, isJsonObject } from "./json";
import { formatReference, type VariableReference } from "./reference";

/**
 * The value a reference names. `null` is a value; undefined never is.
 *
 * @throws {UnresolvedVariableError} naming the reference, why it has no value, and `location`.
 */
export function lookupReference(
  reference: VariableReference,
  ctx: ExpressionContext,
  location?: string,
): unknown {
  const { root, segments, stepId, raw } = reference;
  const unresolved = (reason: string) => new UnresolvedVariableError(raw, reason, location);
  if (stepId !== undefined && !Object.hasOwn(ctx.steps, stepId)) throw unresolved(`"${stepId}" has not run`);

  let value: unknown = ctx[root];
  if (value === undefined) throw unresolved(`${root} is not set`);
  for (const [i, segment] of segments.entries()) {
    const parent = value;
    value = childAt(parent, segment);
    if (value !== undefined) continue;
    const where = formatReference(root, segments.slice(0, i));
    if (typeof segment === "number") {
      throw unresolved(
        Array.isArray(parent)
          ? `${where} has ${parent.length} items, none at [${segment}]`
          : `${where} is ${describeKind(parent)}, not an array`,
      );
    }
    throw unresolved(
      isJsonObject(parent)
        ? `${where} has no key "${segment}"`
        : `${where} is ${describeKind(parent)}, not an object`,
    );
  }
  return value;
}
