import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { idempotency, idempotencyHeaders } from "../../middleware/idempotency";
import { insertWorkflow } from "./insert-workflow";
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
    name: workflowName,
    description: workflowDescription.optional(),
    definition: definitionField,
    inputSchema: inputSchemaField.optional(),
  })
  .strict()
  .openapi("CreateWorkflowRequest");

const route = createRoute({
  operationId: "createWorkflow",
  tags: ["workflows"],
  method: "post",
  path: "/v1/workflows",
  summary: "Create a workflow (version 1)",
  description:
    "The definition is checked before anything is saved; every problem found comes back at once in " +
    "a 422's `errors`, each with its path in the request body.",
  security: [{ bearer: [] }],
  middleware: [idempotency("workflows:write")] as const,
  request: {
    headers: idempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: workflowSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 500),
  },
});

export type CreateWorkflowResponse = z.infer<typeof workflowSchema>;

export function registerCreateWorkflow(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "workflows:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    const checked = await checkWorkflowForTenant(db, {
      definition: input.definition,
      inputSchema: input.inputSchema ?? null,
    });
    const row = await insertWorkflow(db, {
      name: input.name,
      description: input.description ?? null,
      checked,
      createdBy: principalId(caller),
    });
    await audit(c, {
      action: "workflow.create",
      resourceType: "workflow",
      resourceId: row.id,
      changes: { name: row.name, version: 1 },
    });
    return c.json(toWorkflowResponse(row), 201, { location: `/v1/workflows/${row.id}` });
  });
}
