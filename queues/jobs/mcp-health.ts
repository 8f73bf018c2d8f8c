import { connect } from "../../db/client";
import { listMcpHealthTenants } from "../../db/privileged";
import { checkTenantServers } from "../../mcp/client/health";
import type { Config, Env } from "../../workers/env";
import type { Logger } from "../../workers/lib/logger";
import type { JobMessage } from "./message";

/** Queue messages per `sendBatch` call (the Queues limit is 100). */
const BATCH = 100;

/**
 * The sweep: lists the tenants with active remote MCP servers (the privileged function sees
 * across tenants, ids only) and queues one check per tenant, so a slow tenant's servers never
 * hold up another's.
 */
export async function runMcpHealthSweep(env: Env, config: Config, requestedAt: string): Promise<number> {
  const client = await connect(config);
  let tenants: string[];
  try {
    tenants = await listMcpHealthTenants(client);
  } finally {
    await client.end().catch(() => undefined);
  }
  for (let i = 0; i < tenants.length; i += BATCH) {
    const messages = tenants.slice(i, i + BATCH).map((tenantId): { body: JobMessage } => ({
      body: { type: "mcp_health_check", tenantId, requestedAt },
    }));
    await env.JOBS.sendBatch(messages);
  }
  return tenants.length;
}

/** One tenant's check: every active remote server probed and its health recorded. */
export async function runMcpHealthCheck(config: Config, tenantId: string, logger: Logger): Promise<void> {
  const summary = await checkTenantServers(config, tenantId, { logger });
  logger.info("mcp health checked", { tenantId, ...summary });
}
