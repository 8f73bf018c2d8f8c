/**
 * Models the platform offers. A tenant's `allowedModels` narrows this list; agent creation
 * checks against it so an unknown model is a 422 at save time, never a failure at run time.
 */
export const PLATFORM_MODELS = [
  "claude-opus-4-5",
  "claude-sonnet-4-5",
  "claude-haiku-4-5",
  "claude-opus-4-1",
  "claude-sonnet-4-0",
  "claude-3-5-haiku-latest",
] as const;

/** The models a tenant may use: its allow-list intersected with the platform's. */
export function allowedModels(tenantAllowList: readonly string[] | undefined): string[] {
  const platform: readonly string[] = PLATFORM_MODELS;
  if (!tenantAllowList || tenantAllowList.length === 0) return [...platform];
  return tenantAllowList.filter((m) => platform.includes(m));
}
