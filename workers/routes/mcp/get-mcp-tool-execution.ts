import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { mcpToolExecutions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { executionDetailSchema, toExecutionDetailResponse } from "./schemas";

const route = createRoute({
  operationId: "getMcpToolExecution",
  tags: ["mcp"],
  method: "get",
  path: "/v1/mcp/executions/{id}",
  summary: "Get one MCP tool call with its input and output",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "tool execution") }) },
  responses: {
    200: { description: "The call.", content: { "application/json": { schema: executionDetailSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetMcpToolExecution(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:read");
    const db = c.get("db");
    const { id } = c.req.valid("param");
    // Another tenant's execution is hidden by RLS: 404 like an id that never existed.
    const [row] = await db
      .select()
      .from(mcpToolExecutions)
      .where(and(eq(mcpToolExecutions.tenantId, db.tenantId), eq(mcpToolExecutions.id, id)));
    if (!row) throw new ApiError("NOT_FOUND", { detail: `MCP tool execution ${id} not found.` });
    return c.json(toExecutionDetailResponse(row), 200);
  });
}
