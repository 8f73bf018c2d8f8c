import type { App } from "../../app";
import { registerGetQuotas } from "./get-quotas";

/** A tenant's own view of its quotas (the platform admin's are under /v1/tenants/{id}/quotas). */
export function registerQuotasRoutes(app: App) {
  registerGetQuotas(app);
}
