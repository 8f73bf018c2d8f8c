import { createRoute, z } from "@hono/zod-openapi";
import { MCP_TRANSPORTS } from "../../../db/schema/mcp";
import { REMOTE_FAILURE_REASONS } from "../../../mcp/client/errors";
import { probeRemote } from "../../../mcp/client/health";
import { saveHealth } from "../../../mcp/client/registry";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { iso, timestamp, uuidParam } from "../../lib/schemas";
import { loadMcpServer } from "./load";
import { inOwnTransaction } from "./remote";

const healthCheckSchema = z
  .object({
    serverId: z.string().uuid(),
    status: z.enum(["healthy", "degraded", "unreachable"]).openapi({
      description:
        "`healthy`: initialize and ping answered, ping within 2 s. `degraded`: initialize answered but ping " +
        "was slower or failed. `unreachable`: no MCP session could be opened.",
      example: "healthy",
    }),
    latencyMs: z.number().int().nullable().openapi({ description: "The ping's round trip.", example: 38 }),
    error: z.string().nullable().openapi({ example: null }),
    reason: z.enum(REMOTE_FAILURE_REASONS).nullable().openapi({
      description:
        "Why the check was not healthy: `unreachable`, `timeout`, `auth_failed`, `invalid_response`, ...",
      example: null,
    }),
    transport: z.enum(MCP_TRANSPORTS).nullable().openapi({ description: "The transport that answered." }),
    checkedAt: timestamp,
  })
  .openapi("McpServerHealthCheck");
export type CheckMcpServerHealthResponse = z.infer<typeof healthCheckSchema>;

const route = createRoute({
  operationId: "checkMcpServerHealth",
  tags: ["mcp-servers"],
  method: "get",
  path: "/v1/mcp/servers/{id}/health",
  summary: "Check a remote server now: initialize, ping, latency",
  description:
    "Always calls the server, and records the outcome (shown as `health` on the server). An unhealthy " +
    "server is an answer, not an error: 200 with `status: unreachable`. Tool calls skip a server found " +
    "unreachable for 5 minutes after the check (`server_unhealthy`). A disabled server is 409.",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "MCP server") }) },
  responses: {
    200: {
      description: "The check's outcome.",
      content: { "application/json": { schema: healthCheckSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

export function registerCheckMcpServerHealth(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:read");
    const db = c.get("db");
    const { server } = await loadMcpServer(db, c.req.valid("param").id);
    if (server.status === "disabled") {
      throw new ApiError("CONFLICT", { detail: `The MCP server "${server.name}" is disabled.` });
    }
    const health = await probeRemote({ db, config: c.get("config"), signal: c.req.raw.signal }, server);
    await inOwnTransaction(c, (writable) => saveHealth(writable, server.id, health));
    const body: CheckMcpServerHealthResponse = {
      serverId: server.id,
      status: health.status,
      latencyMs: health.latencyMs,
      error: health.error,
      reason: health.reason,
      transport: health.transport,
      checkedAt: iso(health.checkedAt),
    };
    return c.json(body, 200);
  });
}
