/** What templates, `$path` selections and conditions read. */
export interface ExpressionContext {
  input: unknown;
  /** Steps that have finished (succeeded), by id. */
  steps: Record<string, { output: unknown; status: string }>;
  /** The tenant's named settings (tenants.settings.named). */
  env: Record<string, unknown>;
}

/** The document JSONPath runs against: `$.input`, `$.steps.<id>.output`, `$.env.NAME`. */
export function contextDocument(ctx: ExpressionContext): Record<string, unknown> {
  return { input: ctx.input, steps: ctx.steps, env: ctx.env };
}
