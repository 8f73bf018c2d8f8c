import { z } from "zod";
import type { BuiltinMcpServer, McpTool } from "./types";

/** A tool as `tools/list` and `GET /v1/mcp/builtin` describe it. */
export interface ToolDescription {
  name: string;
  title?: string;
  description: string;
  /** JSON Schema (draft 2020-12) of the arguments, as the tool accepts them (`io: "input"`). */
  inputSchema: { type: "object"; [key: string]: unknown };
  annotations?: McpTool["annotations"];
}

const cache = new WeakMap<McpTool, ToolDescription>();

/**
 * The tool's description with its input schema in JSON Schema, converted once per isolate.
 *
 * @throws Error when the tool's input schema is not an object schema, or not representable in JSON Schema.
 * @example
 * const tools = server.tools.map(describeTool);
 */
export function describeTool(tool: McpTool): ToolDescription {
  const cached = cache.get(tool);
  if (cached) return cached;
  const schema = z.toJSONSchema(tool.input, { io: "input" }) as Record<string, unknown>;
  if (schema.type !== "object") throw new Error(`The input schema of tool "${tool.name}" is not an object.`);
  const description: ToolDescription = {
    name: tool.name,
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    inputSchema: schema as ToolDescription["inputSchema"],
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
  };
  cache.set(tool, description);
  return description;
}

/** Every tool of `server`, described. */
export function describeTools(server: BuiltinMcpServer): ToolDescription[] {
  return server.tools.map(describeTool);
}
