import type { Tenant } from "../../../db/types";
import { ApiError, type FieldError } from "../../lib/errors";
import { limitsAboveCeiling, type PartialLimits } from "../../lib/limits";
import { PLATFORM_MODELS } from "../../lib/models";

/**
 * Rules the schema cannot express: every allowed model must be one the platform offers, and
 * the tenant's default limits may not exceed the ceilings the platform admin set.
 *
 * @throws ApiError UNPROCESSABLE listing each offending field.
 */
export function checkTenantSettings(
  tenant: Pick<Tenant, "limits">,
  settings: { allowedModels?: string[] | null | undefined; defaultLimits?: PartialLimits | null | undefined },
): void {
  const errors: FieldError[] = [];
  const platform: readonly string[] = PLATFORM_MODELS;
  for (const [i, model] of (settings.allowedModels ?? []).entries()) {
    if (!platform.includes(model)) {
      errors.push({
        path: `settings.allowedModels.${i}`,
        message: `not a platform model; available: ${platform.join(", ")}`,
      });
    }
  }
  for (const key of limitsAboveCeiling(settings.defaultLimits ?? {}, tenant.limits)) {
    errors.push({
      path: `settings.defaultLimits.${key}`,
      message: "exceeds the tenant's ceiling or the platform's maximum",
    });
  }
  if (errors.length > 0) {
    throw new ApiError("UNPROCESSABLE", { detail: "The settings break the tenant's limits.", errors });
  }
}
