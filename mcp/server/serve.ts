import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { describeTools } from "./describe";
import { type ExecuteResult, executeBuiltinTool, failureBody, UnknownToolError } from "./execute";
import type { BuiltinMcpServer, McpToolContext } from "./types";

/**
 * Answers one MCP Streamable HTTP request for a built-in server, statelessly: a fresh SDK
 * server and transport per request, no session id, JSON responses (no SSE stream). Every
 * `tools/call` goes through `executeBuiltinTool`, so it is validated, time-limited and recorded
 * in `mcp_tool_executions` like any other call. Only POST carries MCP messages; GET (a server
 * stream) and DELETE (ending a session) answer 405, as the transport spec allows a stateless
 * server to.
 *
 * The SDK validates JSON Schema with `@cfworker/json-schema` here, never its default Ajv, which
 * compiles with `new Function` (forbidden in deployed Workers, allowed in the test pool).
 *
 * @throws nothing for protocol faults (they are JSON-RPC errors in the response); rethrows only
 *   what the transport itself throws.
 * @example
 * return serveBuiltinServer(calculatorServer, ctx, c.req.raw);
 */
export async function serveBuiltinServer(
  server: BuiltinMcpServer,
  ctx: McpToolContext,
  request: Request,
): Promise<Response> {
  if (request.method !== "POST") return methodNotAllowed();
  const mcp = new McpServer(
    { name: server.name, title: server.title, version: server.version },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator(), instructions: server.description },
  );
  // The low-level handlers rather than `registerTool`: the SDK would validate arguments itself
  // and answer a mismatch before our code runs, and such a call would go unrecorded.
  mcp.server.registerCapabilities({ tools: { listChanged: false } });
  mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: describeTools(server) }));
  const only = new Map([[server.name, server]]);
  mcp.server.setRequestHandler(CallToolRequestSchema, async (call, extra) => {
    let result: ExecuteResult;
    try {
      result = await executeBuiltinTool(
        { ...ctx, signal: AbortSignal.any([ctx.signal, extra.signal]) },
        { serverName: server.name, toolName: call.params.name, input: call.params.arguments ?? {} },
        { servers: only },
      );
    } catch (error) {
      if (error instanceof UnknownToolError) {
        throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${call.params.name}`);
      }
      // Recording failed (the database): the SDK would put the message in the response.
      ctx.logger?.error("built-in MCP tool call could not be recorded", {
        server: server.name,
        tool: call.params.name,
        error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      });
      throw new McpError(ErrorCode.InternalError, "Internal error");
    }
    return toCallToolResult(result);
  });

  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    maxRequestBodySize: ctx.config.MAX_BODY_BYTES,
  });
  await mcp.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await mcp.close().catch(() => undefined);
  }
}

/**
 * An execution result as an MCP tool result: the JSON text, plus `structuredContent` when it is
 * an object; a failure is `isError: true` with `{ error, reason, issues? }` in both.
 */
export function toCallToolResult(result: ExecuteResult): CallToolResult {
  if (result.status === "failed" && result.error) {
    const body = failureBody(result.error);
    return {
      content: [{ type: "text", text: JSON.stringify(body) }],
      structuredContent: body,
      isError: true,
    };
  }
  const output = result.output ?? null;
  const isObject = typeof output === "object" && output !== null && !Array.isArray(output);
  return {
    content: [{ type: "text", text: JSON.stringify(output) }],
    ...(isObject ? { structuredContent: output as Record<string, unknown> } : {}),
  };
}

/**
 * 405 for GET and DELETE: this stateless endpoint offers no server-to-client stream and no
 * session to end. A JSON-RPC error body, as the SDK's own transport answers.
 */
export function methodNotAllowed(): Response {
  return new Response(
    JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }),
    { status: 405, headers: { Allow: "POST", "Content-Type": "application/json" } },
  );
}
