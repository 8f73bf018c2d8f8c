import { eq } from "drizzle-orm";
import { tenants } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { ApiError, type FieldError } from "../../lib/errors";
import { limitsAboveCeiling, type PartialLimits } from "../../lib/limits";
import { allowedModels } from "../../lib/models";

/**
 * Rules the schema cannot express, checked against the tenant's settings: the model must be
 * one the tenant may use, and limits may not exceed the tenant's ceiling or the platform's.
 *
 * @throws ApiError UNPROCESSABLE listing each offending field.
 */
export async function checkAgentDefinition(
  db: TenantDb,
  definition: { model?: string | undefined; resourceLimits?: PartialLimits | undefined },
): Promise<void> {
  const [tenant] = await db
    .select({ settings: tenants.settings, limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  const errors: FieldError[] = [];
  if (definition.model !== undefined) {
    const models = allowedModels(tenant?.settings.allowedModels);
    if (!models.includes(definition.model)) {
      errors.push({ path: "model", message: `unknown or not allowed; allowed: ${models.join(", ")}` });
    }
  }
  if (definition.resourceLimits) {
    for (const key of limitsAboveCeiling(definition.resourceLimits, tenant?.limits)) {
      errors.push({
        path: `resourceLimits.${key}`,
        message: "exceeds the tenant's or the platform's maximum",
      });
    }
  }
  if (errors.length > 0) {
    throw new ApiError("UNPROCESSABLE", {
      detail: "The agent definition breaks the tenant's rules.",
      errors,
    });
  }
}
