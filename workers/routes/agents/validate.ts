import { eq } from "drizzle-orm";
import { tenants } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { BUILTIN_TOOLS } from "../../agents/tools/registry";
import { ApiError, type FieldError } from "../../lib/errors";
import { limitsAboveCeiling, type PartialLimits } from "../../lib/limits";
import { allowedModels } from "../../lib/models";

/**
 * Rules the schema cannot express, checked against the tenant's settings: the model must be
 * one the tenant may use, built-in tools must exist, and limits may not exceed the tenant's
 * ceiling or the platform's.
 *
 * @throws ApiError UNPROCESSABLE listing each offending field.
 */
export async function checkAgentDefinition(
  db: TenantDb,
  definition: {
    model?: string | undefined;
    resourceLimits?: PartialLimits | undefined;
    tools?: { name: string; type: string }[] | undefined;
  },
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
  for (const [i, tool] of (definition.tools ?? []).entries()) {
    // Built-in tools are known now; MCP, knowledge-base and agent tools are resolved when they run.
    if (tool.type === "builtin" && !BUILTIN_TOOLS.has(tool.name)) {
      errors.push({
        path: `tools.${i}.name`,
        message: `no built-in tool "${tool.name}"; built-in tools: ${[...BUILTIN_TOOLS.keys()].join(", ")}`,
      });
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
