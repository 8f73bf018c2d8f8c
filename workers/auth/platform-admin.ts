import type { Context } from "../app";
import { ApiError } from "../lib/errors";

/**
 * Refuses anyone but the platform admin.
 *
 * @throws ApiError FORBIDDEN for tenant principals.
 */
export function requirePlatformAdmin(c: Context): void {
  if (c.get("principal").kind !== "platform_admin") {
    throw new ApiError("FORBIDDEN", { detail: "Only the platform admin manages tenants." });
  }
}
