import { z } from "@hono/zod-openapi";
import type { Workflow, WorkflowVersion } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

const EXAMPLE_DEFINITION = {
  steps: [
    {
      id: "research",
      type: "agent",
      agentId: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d",
      message: "Research {{input.topic}}",
    },
    { id: "summary", type: "transform", output: { text: "{{steps.research.output}}" } },
  ],
};

export const workflowName = z.string().trim().min(1).max(200).openapi({ example: "research-digest" });

export const workflowDescription = z.string().max(2000).nullable();

/**
 * Any JSON here: the definition language is checked by `validateDefinition`, whose problems
 * come back as a 422 with a path for each, which a zod union of seven step types could not give.
 */
export const definitionField = z
  .unknown()
  .refine((v) => v !== undefined, "required")
  .openapi({
    type: "object",
    description:
      "The steps and their flow (see the workflow definition language). Checked on every save: " +
      "step references, cycles, templates, the tenant's step and branch limits, and that each agent " +
      "step names a live agent of the tenant (and a version it has); failures are 422 with `errors`.",
    example: EXAMPLE_DEFINITION,
  });

export const inputSchemaField = z
  .record(z.string(), z.unknown())
  .nullable()
  .openapi({
    description:
      'JSON Schema (draft-07 keywords or later) that an execution\'s input must satisfy; its root is `type: "object"` ' +
      "when it names a type. A schema that cannot be used (a keyword of the wrong kind, a `$ref` that " +
      "resolves nowhere) is 422.",
    example: { type: "object", properties: { topic: { type: "string" } }, required: ["topic"] },
  });

export const workflowSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string().openapi({ example: "research-digest" }),
    description: z.string().nullable(),
    version: z.number().int().openapi({
      description:
        "The version whose definition and input schema this shows: the current one, or the one asked for with `?version=`.",
      example: 2,
    }),
    definition: z.record(z.string(), z.unknown()).openapi({
      description: "As stored: the request's definition with the language's defaults filled in.",
      example: EXAMPLE_DEFINITION,
    }),
    inputSchema: z.record(z.string(), z.unknown()).nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("Workflow");
export type WorkflowResponse = z.infer<typeof workflowSchema>;

export const workflowVersionSchema = z
  .object({
    version: z.number().int().openapi({ example: 1 }),
    createdAt: timestamp,
    createdBy: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The user or API key that saved it; null for the platform admin." }),
  })
  .openapi("WorkflowVersion");
export type WorkflowVersionResponse = z.infer<typeof workflowVersionSchema>;

/** The workflow, showing `version`'s definition when given (name and description stay current). */
export function toWorkflowResponse(row: Workflow, version?: WorkflowVersion): WorkflowResponse {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: version?.version ?? row.currentVersion,
    definition: version?.definition ?? row.definition,
    inputSchema: version ? version.inputSchema : row.inputSchema,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export function toWorkflowVersionResponse(row: WorkflowVersion): WorkflowVersionResponse {
  return { version: row.version, createdAt: iso(row.createdAt), createdBy: row.createdBy };
}
