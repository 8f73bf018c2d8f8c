import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadMcpServer } from "./load";
import { mcpServerSchema, toMcpServerResponse } from "./schemas";

const route = createRoute({
  operationId: "getMcpServer",
  tags: ["mcp-servers"],
  method: "get",
  path: "/v1/mcp/servers/{id}",
  summary: "Get a remote MCP server with its last health",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "MCP server") }) },
  responses: {
    200: { description: "The server.", content: { "application/json": { schema: mcpServerSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetMcpServer(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:read");
    const { server, registry } = await loadMcpServer(c.get("db"), c.req.valid("param").id);
    return c.json(toMcpServerResponse(server, registry), 200);
  });
}
