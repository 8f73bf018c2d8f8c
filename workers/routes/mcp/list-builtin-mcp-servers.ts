import { createRoute, z } from "@hono/zod-openapi";
import { describeTools } from "../../../mcp/server/describe";
import { BUILTIN_MCP_SERVERS } from "../../../mcp/servers";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";

const toolSchema = z
  .object({
    name: z.string().openapi({ example: "divide" }),
    title: z.string().optional().openapi({ example: "Divide" }),
    description: z.string(),
    inputSchema: z
      .record(z.string(), z.unknown())
      .openapi({ description: "JSON Schema (draft 2020-12) of the tool's input, as `tools/list` gives it." }),
    annotations: z
      .object({
        readOnlyHint: z.boolean().optional(),
        destructiveHint: z.boolean().optional(),
        idempotentHint: z.boolean().optional(),
      })
      .optional()
      .openapi({ description: "MCP tool annotations: hints for clients, not guarantees." }),
  })
  .openapi("McpBuiltinTool");

const serverSchema = z
  .object({
    name: z.string().openapi({ example: "calculator" }),
    title: z.string().openapi({ example: "Calculator" }),
    description: z.string(),
    version: z.string().openapi({ example: "1.0.0" }),
    endpoint: z.string().openapi({
      description: "The server's MCP endpoint (Streamable HTTP).",
      example: "/v1/mcp/builtin/calculator",
    }),
    tools: z.array(toolSchema),
  })
  .openapi("McpBuiltinServer");

const list = z.object({ data: z.array(serverSchema) }).openapi("McpBuiltinServerList");
export type ListBuiltinMcpServersResponse = z.infer<typeof list>;

const route = createRoute({
  operationId: "listBuiltinMcpServers",
  tags: ["mcp"],
  method: "get",
  path: "/v1/mcp/builtin",
  summary: "List the built-in MCP servers and their tools",
  description:
    "The platform's own MCP servers, with each tool's input schema. Not paginated: a fixed catalogue.\n\n" +
    "Each server is also an MCP endpoint, `POST /v1/mcp/builtin/{name}`, outside this document because " +
    "it speaks JSON-RPC, not REST: the Streamable HTTP transport, stateless (no `Mcp-Session-Id`), " +
    "answering JSON (send `Accept: application/json, text/event-stream` and " +
    "`Content-Type: application/json`). Authenticate with the same bearer credential; calling it needs " +
    "`mcp:execute` (403 otherwise), an unknown server is 404, and GET or DELETE on it is 405. Every " +
    "`tools/call` is recorded like `POST /v1/mcp/execute` (see `GET /v1/mcp/executions`); a tool's " +
    "failure is a result with `isError: true` and `{ error, reason }`, an unknown tool a JSON-RPC " +
    "error -32602.",
  security: [{ bearer: [] }],
  responses: {
    200: { description: "Every built-in server.", content: { "application/json": { schema: list } } },
    ...problemResponses(401, 403, 429, 500),
  },
});

export function registerListBuiltinMcpServers(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:read");
    const data = [...BUILTIN_MCP_SERVERS.values()].map((server) => ({
      name: server.name,
      title: server.title,
      description: server.description,
      version: server.version,
      endpoint: `/v1/mcp/builtin/${server.name}`,
      tools: describeTools(server),
    }));
    return c.json({ data }, 200);
  });
}
