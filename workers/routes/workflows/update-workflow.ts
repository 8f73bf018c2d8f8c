import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { workflows, workflowVersions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadWorkflow } from "./load";
import {
  definitionField,
  inputSchemaField,
  toWorkflowResponse,
  workflowDescription,
  workflowName,
  workflowSchema,
} from "./schemas";
import { checkWorkflowForTenant } from "./validate-for-tenant";

const body = z
  .object({
    name: workflowName.optional(),
    description: workflowDescription.optional(),
    definition: definitionField.optional(),
    inputSchema: inputSchemaField.optional().openapi({ description: "null removes the input schema." }),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "send at least one field")
  .openapi("UpdateWorkflowRequest");

const route = createRoute({
  operationId: "updateWorkflow",
  tags: ["workflows"],
  method: "patch",
  path: "/v1/workflows/{id}",
  summary: "Change a workflow; a new definition or input schema makes a new version",
  description:
    "Name and description change in place. A definition or input schema that differs from the current " +
    "one is checked like on create and saved as the next version; earlier versions stay readable, and " +
    "executions keep the version they started with.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "workflow") }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: {
      description: "The updated workflow.",
      content: { "application/json": { schema: workflowSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500),
  },
});

/** JSON with object keys sorted: jsonb does not keep the key order a definition was sent in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function registerUpdateWorkflow(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "workflows:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    // Row lock: two concurrent PATCHes get consecutive versions instead of colliding.
    const current = await loadWorkflow(db, c.req.valid("param").id, { forUpdate: true });

    let definition = current.definition;
    let inputSchema = current.inputSchema;
    if (input.definition !== undefined || input.inputSchema !== undefined) {
      const checked = await checkWorkflowForTenant(db, {
        definition: input.definition !== undefined ? input.definition : current.definition,
        inputSchema: input.inputSchema !== undefined ? input.inputSchema : current.inputSchema,
      });
      definition = checked.definition as unknown as Record<string, unknown>;
      inputSchema = checked.inputSchema;
    }
    const fields = [
      ...(input.name !== undefined && input.name !== current.name ? ["name"] : []),
      ...(input.description !== undefined && input.description !== current.description
        ? ["description"]
        : []),
      ...(canonical(definition) !== canonical(current.definition) ? ["definition"] : []),
      ...(canonical(inputSchema) !== canonical(current.inputSchema) ? ["inputSchema"] : []),
    ];
    if (fields.length === 0) return c.json(toWorkflowResponse(current), 200);

    const versioned = fields.includes("definition") || fields.includes("inputSchema");
    const version = versioned ? current.currentVersion + 1 : current.currentVersion;
    const [updated] = await db
      .update(workflows)
      .set({
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && { description: input.description }),
        ...(versioned && { definition, inputSchema, currentVersion: version }),
      })
      .where(eq(workflows.id, current.id))
      .returning();
    if (!updated) throw new Error("workflow update returned no row");
    if (versioned) {
      await db.insert(workflowVersions).values({
        tenantId: db.tenantId,
        workflowId: current.id,
        version,
        definition,
        inputSchema,
        createdBy: principalId(caller),
      });
    }
    await audit(c, {
      action: "workflow.update",
      resourceType: "workflow",
      resourceId: current.id,
      changes: { fields, version },
    });
    return c.json(toWorkflowResponse(updated), 200);
  });
}
