import type { z } from "zod";

/** What a tool runs with: the tenant it acts for and the run's limits, never the model's say-so. */
export interface ToolContext {
  tenantId: string;
  signal: AbortSignal;
  maxOutputBytes: number;
  /** The model's id of this call, for tools that key the work they start to it. */
  toolUseId?: string;
}

/**
 * A tool an agent can call. Its input is validated with `input` before `run` sees it, so a
 * model's malformed call becomes a failed tool result the model can read, not an exception.
 */
export interface AgentTool<I = unknown> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  run(input: I, ctx: ToolContext): Promise<unknown>;
}
