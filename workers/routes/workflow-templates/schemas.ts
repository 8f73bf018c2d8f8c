import { z } from "@hono/zod-openapi";
import type { WorkflowTemplate } from "../../workflows/templates";
import { toolSchema } from "../agents/schemas";
import { workflowSchema } from "../workflows/schemas";

export const templateIdParam = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
  .openapi({
    param: { name: "id", in: "path" },
    description: "The template's id (a slug).",
    example: "research-then-summarise",
  });

const templateAgentSchema = z
  .object({
    key: z.string().openapi({
      description: "How the definition and other agents name this agent: `@agent:<key>`.",
      example: "researcher",
    }),
    name: z.string().openapi({
      description: "Created as `<workflow name>: <name>`.",
      example: "researcher",
    }),
    description: z.string(),
    model: z.string().openapi({
      description: "`@param:model` unless the template fixes one.",
      example: "@param:model",
    }),
    systemPrompt: z.string(),
    tools: z.array(toolSchema),
  })
  .openapi("WorkflowTemplateAgent");

export const templateSchema = z
  .object({
    id: z.string().openapi({ example: "research-then-summarise" }),
    name: z.string().openapi({ example: "Research, then summarise" }),
    description: z.string(),
    parameters: z.record(z.string(), z.unknown()).openapi({
      description:
        "JSON Schema of what `instantiate` takes in `parameters`; every template has `model` " +
        "(default claude-sonnet-4-6).",
      example: {
        type: "object",
        properties: { model: { type: "string", default: "claude-sonnet-4-6" } },
        additionalProperties: false,
      },
    }),
    agents: z.array(templateAgentSchema).openapi({
      description: "The agents an instantiation creates, in order, with placeholders unfilled.",
    }),
    inputSchema: z.record(z.string(), z.unknown()).openapi({
      description: "The created workflow's input schema.",
      example: { type: "object", properties: { topic: { type: "string" } }, required: ["topic"] },
    }),
    exampleInput: z.record(z.string(), z.unknown()).openapi({
      description: "An input to execute the created workflow with.",
      example: { topic: "How tides work" },
    }),
    definition: z.record(z.string(), z.unknown()).openapi({
      description:
        "The workflow definition, with placeholders: a string that is exactly `@agent:<key>` becomes " +
        "the created agent's id, `@param:<name>` the parameter's value.",
    }),
  })
  .openapi("WorkflowTemplate");
export type WorkflowTemplateResponse = z.infer<typeof templateSchema>;

export const instantiatedSchema = z
  .object({
    template: z.string().openapi({ example: "research-then-summarise" }),
    workflow: workflowSchema,
    agents: z
      .array(
        z.object({
          key: z.string().openapi({ example: "researcher" }),
          id: z.string().uuid(),
          name: z.string().openapi({ example: "tides digest: researcher" }),
        }),
      )
      .openapi({ description: "The agents created for the workflow, in the template's order." }),
  })
  .openapi("InstantiatedWorkflowTemplate");
export type InstantiateWorkflowTemplateResponse = z.infer<typeof instantiatedSchema>;

export function toTemplateResponse(template: WorkflowTemplate): WorkflowTemplateResponse {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(template.parameters, { io: "input" }) as Record<
    string,
    unknown
  >;
  return {
    id: template.id,
    name: template.name,
    description: template.description,
    parameters,
    agents: template.agents.map((agent) => ({
      key: agent.key,
      name: agent.name,
      description: agent.description,
      model: agent.model ?? "@param:model",
      systemPrompt: agent.systemPrompt,
      tools: agent.tools ?? [],
    })),
    inputSchema: template.inputSchema,
    exampleInput: template.exampleInput,
    definition: template.definition as unknown as Record<string, unknown>,
  };
}
