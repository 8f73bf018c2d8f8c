import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNull, lt, type SQL, sql } from "drizzle-orm";
import {
  MCP_HEALTH_STATUSES,
  MCP_SERVER_STATUSES,
  mcpServerRegistry,
  mcpServers,
} from "../../../db/schema/mcp";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { mcpServerSchema, toMcpServerResponse } from "./schemas";

const query = pageQuery.extend({
  status: z.enum(MCP_SERVER_STATUSES).optional().openapi({ description: "Only servers with this status." }),
  health: z
    .enum(MCP_HEALTH_STATUSES)
    .optional()
    .openapi({ description: "Only servers whose last health check found this (`unknown`: never checked)." }),
});

const page = pageOf(mcpServerSchema, "McpServerPage");
export type ListMcpServersResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listMcpServers",
  tags: ["mcp-servers"],
  method: "get",
  path: "/v1/mcp/servers",
  summary: "List the tenant's remote MCP servers, newest first, with their last health",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of servers.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListMcpServers(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:read");
    const { limit, cursor, status, health } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [eq(mcpServers.tenantId, db.tenantId), isNull(mcpServers.deletedAt)];
    if (after) filters.push(lt(mcpServers.id, after));
    if (status) filters.push(eq(mcpServers.status, status));
    if (health) filters.push(sql`coalesce(${mcpServerRegistry.healthStatus}, 'unknown') = ${health}`);
    const rows = await db
      .select({ id: mcpServers.id, server: mcpServers, registry: mcpServerRegistry })
      .from(mcpServers)
      .leftJoin(
        mcpServerRegistry,
        and(
          eq(mcpServerRegistry.tenantId, mcpServers.tenantId),
          eq(mcpServerRegistry.serverId, mcpServers.id),
        ),
      )
      .where(and(...filters))
      .orderBy(desc(mcpServers.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map((r) => toMcpServerResponse(r.server, r.registry)), nextCursor }, 200);
  });
}
