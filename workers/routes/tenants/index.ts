import type { App } from "../../app";
import { registerDeleteTenant } from "./delete-tenant";
import { registerGetTenant } from "./get-tenant";
import { registerTenantExports } from "./tenant-exports";
import { registerTenantQuotas } from "./tenant-quotas";
import { registerUpdateTenant } from "./update-tenant";

/**
 * The platform admin's routes on one tenant. `createTenant` is registered on its own in
 * workers/index.ts. There is no list route: listing every tenant is a cross-tenant read, and
 * the privileged path has no function for it.
 */
export function registerTenantsRoutes(app: App) {
  registerGetTenant(app);
  registerUpdateTenant(app);
  registerTenantQuotas(app);
  registerDeleteTenant(app);
  registerTenantExports(app);
}
