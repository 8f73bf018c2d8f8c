import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import { listMcpHealthTenants } from "../../db/privileged";
import { fakeScope } from "../../mcp/client/test-fixtures";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { recordingJobs } from "../../test/harness/queue";
import type { McpServerResponse } from "../../workers/routes/mcp-servers/schemas";
import { handleJobs } from "./consumer";
import type { JobMessage } from "./message";
import { FREQUENT_CRON, scheduled } from "./schedule";

const bindings = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY?: string };

async function register(token: string, url: string): Promise<McpServerResponse> {
  const res = await api.post<McpServerResponse>("/v1/mcp/servers", {
    token,
    body: { name: `health-${crypto.randomUUID().slice(0, 8)}`, url },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe("scheduled MCP health check", () => {
  it("the 15-minute cron queues the health, stale-ingestion and budget-hold sweeps; the hourly one keeps queueing housekeeping", async () => {
    const { bindings: recording, sent } = recordingJobs();
    const at = Date.parse("2026-11-26T12:00:00Z");
    await scheduled({ cron: FREQUENT_CRON, scheduledTime: at } as ScheduledController, recording);
    await scheduled({ cron: "17 * * * *", scheduledTime: at } as ScheduledController, recording);
    expect(sent.map((m) => m.type)).toEqual([
      "mcp_health_sweep",
      "rag_stale_sweep",
      "budget_reservation_sweep",
      "purge_soft_deleted",
      "usage_rollup_sweep",
    ]);
  });

  it("the sweep finds only tenants with an active remote server, and a tenant's check records each server's health", async () => {
    const withServer = await createTenant();
    const without = await createTenant();
    const healthy = await register(withServer.token, `${fakeScope().base}/mcp`);
    const gone = await register(withServer.token, "http://127.0.0.1:9/mcp");

    const client = await connect(bindings);
    try {
      const tenants = await listMcpHealthTenants(client);
      expect(tenants).toContain(withServer.tenant.id);
      expect(tenants).not.toContain(without.tenant.id);
    } finally {
      await client.end();
    }

    const message: JobMessage = {
      type: "mcp_health_check",
      tenantId: withServer.tenant.id,
      requestedAt: new Date().toISOString(),
    };
    const batch = createMessageBatch<unknown>("meridian-jobs", [
      { id: "h1", timestamp: new Date(), attempts: 1, body: message },
    ]);
    await handleJobs(batch, env);
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(["h1"]);

    const after = await api.get<McpServerResponse>(`/v1/mcp/servers/${healthy.id}`, {
      token: withServer.token,
    });
    expect(after.body.health.status).toBe("healthy");
    const down = await api.get<McpServerResponse>(`/v1/mcp/servers/${gone.id}`, { token: withServer.token });
    expect(down.body.health.status).toBe("unreachable");
  });
});
