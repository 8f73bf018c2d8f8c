import { z } from "@hono/zod-openapi";
import type { Agent, AgentVersion } from "../../../db/types";
import { limitsSchema } from "../../lib/limits";
import { iso, timestamp } from "../../lib/schemas";

export const toolSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/)
      .openapi({ example: "search_docs" }),
    type: z
      .enum(["builtin", "mcp", "knowledge_base", "agent"])
      .openapi({ description: "Where the tool comes from; the agent runtime resolves it." }),
    description: z.string().max(1024).optional(),
    config: z
      .record(z.string(), z.unknown())
      .refine((v) => JSON.stringify(v).length <= 16_384, "config is limited to 16 KiB of JSON")
      .optional()
      .openapi({ description: "Tool-specific settings (server id, collection id, ...)." }),
    requiresApproval: z
      .boolean()
      .optional()
      .openapi({ description: "Pause the run for a human before each call." }),
  })
  .strict()
  .openapi("AgentTool");

/** The versioned part of an agent: every change to these makes a new version. */
export const definitionFields = {
  model: z.string().min(1).max(128).openapi({ example: "claude-sonnet-4-6" }),
  systemPrompt: z
    .string()
    .max(100_000)
    .nullable()
    .optional()
    .openapi({ example: "You are a concise analyst." }),
  tools: z.array(toolSchema).max(64).optional(),
  capabilities: z
    .array(z.string().regex(/^[a-z0-9_:-]{1,64}$/))
    .max(64)
    .optional()
    .openapi({ example: ["data_analysis"] }),
  resourceLimits: limitsSchema.optional(),
};

export const agentSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string().openapi({ example: "analyst" }),
    description: z.string().nullable(),
    version: z
      .number()
      .int()
      .openapi({ description: "Current version; runs record the version they used.", example: 3 }),
    model: z.string(),
    systemPrompt: z.string().nullable(),
    tools: z.array(toolSchema),
    capabilities: z.array(z.string()),
    resourceLimits: limitsSchema,
    metadata: z.record(z.string(), z.unknown()),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("Agent");
export type AgentResponse = z.infer<typeof agentSchema>;

export const agentVersionSchema = agentSchema
  .omit({ updatedAt: true, metadata: true })
  .extend({ agentId: z.string().uuid() })
  .openapi("AgentVersion");
export type AgentVersionResponse = z.infer<typeof agentVersionSchema>;

export function toAgentResponse(row: Agent): AgentResponse {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.currentVersion,
    model: row.model,
    systemPrompt: row.systemPrompt,
    tools: row.tools as AgentResponse["tools"],
    capabilities: row.capabilities,
    resourceLimits: row.resourceLimits,
    metadata: row.metadata,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export function toAgentVersionResponse(row: AgentVersion): AgentVersionResponse {
  return {
    id: row.id,
    agentId: row.agentId,
    name: row.name,
    description: row.description,
    version: row.version,
    model: row.model,
    systemPrompt: row.systemPrompt,
    tools: row.tools as AgentResponse["tools"],
    capabilities: row.capabilities,
    resourceLimits: row.resourceLimits,
    createdAt: iso(row.createdAt),
  };
}
