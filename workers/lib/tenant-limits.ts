import { eq } from "drizzle-orm";
import { tenants } from "../../db/schema";
import type { TenantSettings } from "../../db/schema/tenants";
import type { TenantDb } from "../../db/tenant";
import { effectiveLimits, type Limits, type PartialLimits, type Quotas, quotasOf } from "./limits";

/** The tenant's settings, the limits in force for it (no agent layer) and its quotas. */
export async function tenantRules(
  db: TenantDb,
): Promise<{ settings: TenantSettings; limits: Limits; quotas: Quotas }> {
  const [tenant] = await db
    .select({ settings: tenants.settings, limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  const settings = tenant?.settings ?? {};
  return {
    settings,
    limits: effectiveLimits({
      ceiling: tenant?.limits as PartialLimits | undefined,
      defaults: settings.defaultLimits as PartialLimits | undefined,
    }),
    quotas: quotasOf(tenant?.limits),
  };
}
