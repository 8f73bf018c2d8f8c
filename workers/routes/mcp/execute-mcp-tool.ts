import { createRoute, z } from "@hono/zod-openapi";
import { executeRemoteTool } from "../../../mcp/client/execute";
import { executeBuiltinTool, isBuiltinServer, UnknownToolError } from "../../../mcp/server/execute";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { mcpToolContext } from "./context";

const body = z
  .object({
    server: z
      .string()
      .min(1)
      .max(128)
      .openapi({ description: "The MCP server's name.", example: "calculator" }),
    tool: z.string().min(1).max(128).openapi({ example: "divide" }),
    input: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({
        description: "The tool's arguments, checked against its input schema.",
        example: { a: 1, b: 3 },
      }),
  })
  .openapi("ExecuteMcpToolRequest");

const result = z
  .object({
    executionId: z
      .string()
      .uuid()
      .openapi({ description: "The recorded execution (`GET /v1/mcp/executions/{id}`)." }),
    status: z.enum(["succeeded", "failed"]).openapi({ example: "succeeded" }),
    output: z.unknown().openapi({
      description: "What the tool returned (JSON); null when it failed.",
      example: { result: 0.5 },
    }),
    error: z
      .object({
        message: z.string(),
        reason: z.string().openapi({
          description:
            "The tool's reason, or `invalid_input` (see `issues`), `timeout`, `cancelled`, `internal_error`.",
          example: "division_by_zero",
        }),
        issues: z
          .array(z.object({ path: z.string(), message: z.string() }))
          .optional()
          .openapi({ description: "Where the input fails the tool's schema, for `invalid_input`." }),
      })
      .nullable(),
    durationMs: z.number().int().openapi({ example: 2 }),
  })
  .openapi("McpToolExecutionResult");
export type ExecuteMcpToolResponse = z.infer<typeof result>;

const route = createRoute({
  operationId: "executeMcpTool",
  tags: ["mcp"],
  method: "post",
  path: "/v1/mcp/execute",
  summary: "Call one tool of an MCP server",
  description:
    "Runs the tool and records the call (`GET /v1/mcp/executions`). The answer is 200 whether the tool " +
    "succeeded or failed: a failure (including input that fails the tool's own schema, reason " +
    "`invalid_input`) is in `status` and `error`, as with agent runs. 400 is a body of the wrong shape, " +
    "404 an unknown server or tool. `server` names a built-in server (`GET /v1/mcp/builtin`) or one of the " +
    "tenant's remote servers (`GET /v1/mcp/servers`; see docs/mcp-remote.md for their failure reasons).",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    200: { description: "The call's outcome.", content: { "application/json": { schema: result } } },
    ...problemResponses(400, 401, 403, 404, 413, 415, 429, 500),
  },
});

export function registerExecuteMcpTool(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "mcp:execute");
    const { server, tool, input } = c.req.valid("json");
    try {
      // Remote servers cannot take a built-in name, so a name means one server or none.
      const r = isBuiltinServer(server)
        ? await executeBuiltinTool(mcpToolContext(c), { serverName: server, toolName: tool, input })
        : await executeRemoteTool(mcpToolContext(c), { server, toolName: tool, input });
      return c.json(
        {
          executionId: r.executionId,
          status: r.status,
          output: r.status === "succeeded" ? (r.output ?? null) : null,
          error: r.error ?? null,
          durationMs: r.durationMs,
        },
        200,
      );
    } catch (error) {
      if (error instanceof UnknownToolError) throw new ApiError("NOT_FOUND", { detail: error.message });
      throw error;
    }
  });
}
