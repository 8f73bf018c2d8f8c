import type { App } from "../../app";
import { registerGetCurrentTenant } from "./get-current-tenant";
import { registerUpdateCurrentTenant } from "./update-current-tenant";

/** The caller's own tenant: `/v1/tenant`. */
export function registerTenantRoutes(app: App) {
  registerGetCurrentTenant(app);
  registerUpdateCurrentTenant(app);
}
