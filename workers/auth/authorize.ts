import type { Context } from "../app";
import { ApiError } from "../lib/errors";
import type { TenantPrincipal } from "./principal";
import { can, type Permission } from "./roles";

/**
 * The caller, checked for `permission`. A platform admin holds every permission but only on
 * the tenant it names in the path; elsewhere it has no tenant and is refused.
 *
 * @throws ApiError FORBIDDEN when the role lacks the permission.
 * @example
 * const caller = authorize(c, "agents:write");
 */
export function authorize(c: Context, permission: Permission): TenantPrincipal | { kind: "platform_admin" } {
  const principal = c.get("principal");
  if (principal.kind === "platform_admin") return principal;
  if (!can(principal.role, permission)) {
    throw new ApiError("FORBIDDEN", {
      detail: `The ${principal.role} role lacks the "${permission}" permission.`,
    });
  }
  return principal;
}
