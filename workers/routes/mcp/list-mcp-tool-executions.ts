import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { MCP_EXECUTION_STATUSES, MCP_TOOL_SOURCES, mcpToolExecutions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { executionSchema, executionSummaryColumns, toExecutionResponse } from "./schemas";

const query = pageQuery.extend({
  server: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .openapi({ description: "Only calls of this server (by name)." }),
  tool: z.string().min(1).max(128).optional().openapi({ description: "Only calls of this tool." }),
  status: z.enum(MCP_EXECUTION_STATUSES).optional().openapi({ description: "Only calls with this status." }),
  source: z.enum(MCP_TOOL_SOURCES).optional().openapi({ description: "Only built-in or only remote calls." }),
  runId: z.string().uuid().optional().openapi({ description: "Only calls made by this agent run." }),
});

const page = pageOf(executionSchema, "McpToolExecutionPage");
export type ListMcpToolExecutionsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listMcpToolExecutions",
  tags: ["mcp"],
  method: "get",
  path: "/v1/mcp/executions",
  summary: "List MCP tool calls, newest first",
  description:
    "Every recorded tool call: through an MCP endpoint, `POST /v1/mcp/execute` or an agent run. " +
    "Items leave out input and output; `GET /v1/mcp/executions/{id}` has them.",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of tool calls.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListMcpToolExecutions(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:read");
    const db = c.get("db");
    const { limit, cursor, server, tool, status, source, runId } = c.req.valid("query");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use the indexes.
    const filters: SQL[] = [eq(mcpToolExecutions.tenantId, db.tenantId)];
    if (after) filters.push(lt(mcpToolExecutions.id, after));
    if (server) filters.push(eq(mcpToolExecutions.serverName, server));
    if (tool) filters.push(eq(mcpToolExecutions.toolName, tool));
    if (status) filters.push(eq(mcpToolExecutions.status, status));
    if (source) filters.push(eq(mcpToolExecutions.source, source));
    if (runId) filters.push(eq(mcpToolExecutions.runId, runId));
    const rows = await db
      .select(executionSummaryColumns)
      .from(mcpToolExecutions)
      .where(and(...filters))
      .orderBy(desc(mcpToolExecutions.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map((row) => toExecutionResponse(row)), nextCursor }, 200);
  });
}
