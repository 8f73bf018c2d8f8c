import type Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import type { QueryEmbedding } from "../../rag/search/search";
import { calculator } from "./calculator";
import type { AgentTool, ToolContext } from "./types";

/** Tools built into the platform. MCP tools, knowledge-base search and other agents join later. */
export const BUILTIN_TOOLS: ReadonlyMap<string, AgentTool> = new Map(
  [calculator as AgentTool].map((tool) => [tool.name, tool]),
);

/** The tool as the Messages API declares it: name, description and a JSON Schema of its input. */
export function toolDefinition(tool: AgentTool): Anthropic.Tool {
  const schema = z.toJSONSchema(tool.input) as Anthropic.Tool["input_schema"];
  const { $schema: _ignored, ...inputSchema } = schema as Record<string, unknown>;
  return {
    name: tool.name,
    description: tool.description,
    input_schema: inputSchema as Anthropic.Tool["input_schema"],
  };
}

export interface ToolOutcome {
  status: "succeeded" | "failed";
  /** JSON text handed back to the model as the tool result, cut to the run's limit. */
  content: string;
  /**
   * Content blocks handed to the model instead of `content`, for tools whose results the model
   * can cite (a knowledge-base search returns `search_result` blocks); `content` is then what is
   * recorded as the tool's output.
   */
  blocks?: Exclude<Anthropic.ToolResultBlockParam["content"], string | undefined>;
  truncated: boolean;
  durationMs: number;
  /** The query embeddings the call made (a knowledge-base search), metered with the call. */
  embeddings?: QueryEmbedding[];
}

/**
 * Runs one tool call. Invalid input, a thrown error and an aborted run all become a failed
 * outcome with a message for the model; output beyond `maxOutputBytes` is cut. Tool output is
 * data for the model, never instructions to the platform.
 *
 * @example
 * const outcome = await executeTool(calculator, block.input, { tenantId, signal, maxOutputBytes: 65_536 });
 */
export async function executeTool(
  tool: AgentTool,
  rawInput: unknown,
  ctx: ToolContext,
): Promise<ToolOutcome> {
  const started = Date.now();
  const finish = (status: ToolOutcome["status"], value: unknown): ToolOutcome => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    const bytes = new TextEncoder().encode(text);
    const truncated = bytes.byteLength > ctx.maxOutputBytes;
    let cut = ctx.maxOutputBytes;
    // Cut on a character boundary: never inside a UTF-8 sequence (its continuation bytes are 10xxxxxx).
    while (truncated && cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
    const content = truncated ? new TextDecoder().decode(bytes.slice(0, cut)) : text;
    return { status, content, truncated, durationMs: Date.now() - started };
  };
  const parsed = tool.input.safeParse(rawInput);
  if (!parsed.success) {
    return finish("failed", {
      error: "invalid input",
      issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  if (ctx.signal.aborted) return finish("failed", { error: "the run was cancelled" });
  try {
    return finish("succeeded", await tool.run(parsed.data, ctx));
  } catch (error) {
    return finish("failed", { error: error instanceof Error ? error.message : String(error) });
  }
}
