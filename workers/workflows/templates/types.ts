import { z } from "zod";
import type { StepInput, TemplateValue } from "../definition/schema";

/**
 * A workflow template: a workflow definition built into the platform, the same for every
 * tenant, with the agents it needs. Instantiating one (`POST /v1/workflow-templates/{id}/instantiate`)
 * creates those agents in the tenant, then the workflow that runs them.
 *
 * Placeholders: a string that is exactly `@agent:<key>` becomes the id of the template agent
 * created under that key, and `@param:<name>` the value of that parameter (keeping its JSON
 * type). They may stand anywhere in the agents and the definition; nothing else is rewritten,
 * so the workflow language's own `{{...}}` templates pass through untouched.
 */
export interface WorkflowTemplate {
  /** A slug, stable across releases: callers instantiate by it. */
  id: string;
  name: string;
  description: string;
  /** What the caller supplies at instantiation; unknown keys are refused. */
  parameters: z.ZodObject;
  /** Parameters that hold a collection id: each must name a live collection of the tenant. */
  collectionParameters?: readonly string[];
  /** Created in this order, so an agent's `agent` tools can name the agents before it. */
  agents: TemplateAgent[];
  /** The workflow's input JSON Schema: what each execution is started with. */
  inputSchema: Record<string, unknown>;
  /** An input that runs the workflow end to end, for docs and trying it out. */
  exampleInput: Record<string, unknown>;
  definition: TemplateDefinition;
}

export interface TemplateAgent {
  /** How placeholders name this agent: `@agent:<key>`. */
  key: string;
  /** Its name in the tenant is the workflow's name, a colon and this. */
  name: string;
  description: string;
  /** Default: the `model` parameter every template takes. */
  model?: string;
  systemPrompt: string;
  tools?: TemplateTool[];
}

export interface TemplateTool {
  name: string;
  type: "builtin" | "mcp" | "knowledge_base" | "agent";
  description?: string;
  config?: Record<string, unknown>;
}

export interface TemplateDefinition {
  steps: StepInput[];
  output?: TemplateValue;
  timeoutSeconds?: number;
}

/** The model every template's agents use unless the caller names another. */
export const DEFAULT_TEMPLATE_MODEL = "claude-sonnet-4-6";

/** The `model` parameter every template has: checked against the tenant's allowed models. */
export const modelParameter = z
  .string()
  .min(1)
  .max(128)
  .default(DEFAULT_TEMPLATE_MODEL)
  .describe("The model of every agent the template creates; it must be one the tenant may use.");

/** Fills in the parts every template shares: agents on the `model` parameter unless they name one. */
export function defineTemplate(template: WorkflowTemplate): WorkflowTemplate {
  return {
    ...template,
    agents: template.agents.map((agent) => ({ ...agent, model: agent.model ?? "@param:model" })),
  };
}
