import type { Config, Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import { eraseTenant } from "../../workers/tenants/erasure/erase-tenant";

/** One `tenant_erasure` message: the whole erasure, logged with what each store gave up. */
export async function runTenantErasure(
  env: Env,
  config: Config,
  tenantId: string,
  logger: Logger,
): Promise<void> {
  const report = await eraseTenant(env, config, tenantId);
  if (!report.erased) {
    logger.error("refused to erase a live tenant", { tenantId });
    return;
  }
  logger.info("tenant erased", { tenantId, ...report });
}
