import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { collections } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { App, Context } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { audit } from "../../lib/audit";
import { ApiError, type FieldError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { idempotency, idempotencyHeaders } from "../../middleware/idempotency";
import { fill, type TemplateAgent, type WorkflowTemplate, workflowTemplate } from "../../workflows/templates";
import { insertAgent } from "../agents/insert-agent";
import { checkAgentDefinition } from "../agents/validate";
import { insertWorkflow } from "../workflows/insert-workflow";
import { toWorkflowResponse, workflowDescription, workflowName } from "../workflows/schemas";
import { checkWorkflowForTenant } from "../workflows/validate-for-tenant";
import { type InstantiateWorkflowTemplateResponse, instantiatedSchema, templateIdParam } from "./schemas";

const body = z
  .object({
    name: workflowName.optional().openapi({
      description: "The workflow's name; default: the template's. Its agents are named after it.",
      example: "tides digest",
    }),
    description: workflowDescription.optional().openapi({
      description: "The workflow's description; default: the template's.",
    }),
    parameters: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({
        description:
          "Checked against the template's `parameters` schema and the tenant (a model the tenant may " +
          "use, a collection of the tenant's); a problem is 422 with its path, `parameters.<name>`.",
        example: { model: "claude-sonnet-4-6" },
      }),
  })
  .strict()
  .openapi("InstantiateWorkflowTemplateRequest");

const route = createRoute({
  operationId: "instantiateWorkflowTemplate",
  tags: ["workflows"],
  method: "post",
  path: "/v1/workflow-templates/{id}/instantiate",
  summary: "Create a workflow, and the agents it runs, from a template",
  description:
    "In one transaction: creates the template's agents (each version 1, checked like " +
    "`POST /v1/agents`), then the workflow (version 1, checked like `POST /v1/workflows`) whose " +
    "definition names them. Needs `workflows:write` and `agents:write`. 422 when a parameter is " +
    "invalid, with its path in `errors`; nothing is created then.",
  security: [{ bearer: [] }],
  middleware: [idempotency("workflows:write")] as const,
  request: {
    headers: idempotencyHeaders,
    params: z.object({ id: templateIdParam }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    201: {
      description: "Created: the workflow and its agents.",
      content: { "application/json": { schema: instantiatedSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500),
  },
});

export type { InstantiateWorkflowTemplateResponse };

export function registerInstantiateWorkflowTemplate(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "workflows:write");
    authorize(c, "agents:write");
    const { id } = c.req.valid("param");
    const template = workflowTemplate(id);
    if (!template) throw new ApiError("NOT_FOUND", { detail: `No workflow template ${id}.` });
    const input = c.req.valid("json");
    const db = c.get("db");
    const params = await checkParameters(db, template, input.parameters);
    const name = input.name ?? template.name;
    const createdBy = principalId(caller);

    const agentIds: Record<string, string> = {};
    const created: InstantiateWorkflowTemplateResponse["agents"] = [];
    for (const spec of template.agents) {
      const agent = await createAgent(c, fill(spec, { agents: agentIds, params }), name, template.id);
      agentIds[spec.key] = agent.id;
      created.push({ key: spec.key, id: agent.id, name: agent.name });
    }

    const checked = await checkWorkflowForTenant(db, {
      definition: fill(template.definition, { agents: agentIds, params }),
      inputSchema: template.inputSchema,
    });
    const row = await insertWorkflow(db, {
      name,
      description: input.description !== undefined ? input.description : template.description,
      checked,
      createdBy,
    });
    await audit(c, {
      action: "workflow.create",
      resourceType: "workflow",
      resourceId: row.id,
      changes: { name: row.name, version: 1, template: template.id },
    });
    return c.json({ template: template.id, workflow: toWorkflowResponse(row), agents: created }, 201, {
      location: `/v1/workflows/${row.id}`,
    });
  });
}

/**
 * The caller's parameters with the template's defaults filled in, checked against the template's
 * schema and the tenant: collection parameters must name live collections of the tenant (RLS
 * hides other tenants', so a foreign id is unknown, like one that never existed).
 *
 * @throws ApiError UNPROCESSABLE with a `parameters.<name>` path per problem.
 */
async function checkParameters(
  db: TenantDb,
  template: WorkflowTemplate,
  raw: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const parsed = template.parameters.safeParse(raw);
  if (!parsed.success) {
    throw invalidParameters(
      parsed.error.issues.flatMap((issue): FieldError[] =>
        issue.code === "unrecognized_keys"
          ? issue.keys.map((key) => ({ path: `parameters.${key}`, message: "unknown parameter" }))
          : [{ path: ["parameters", ...issue.path.map(String)].join("."), message: issue.message }],
      ),
    );
  }
  const params = parsed.data as Record<string, unknown>;
  const names = template.collectionParameters ?? [];
  const ids = names.map((n) => params[n]).filter((v): v is string => typeof v === "string");
  if (ids.length === 0) return params;
  const live = await db
    .select({ id: collections.id })
    .from(collections)
    .where(
      and(eq(collections.tenantId, db.tenantId), inArray(collections.id, ids), isNull(collections.deletedAt)),
    );
  const found = new Set(live.map((row) => row.id));
  const problems = names
    .filter((n) => typeof params[n] === "string" && !found.has((params[n] as string).toLowerCase()))
    .map((n) => ({ path: `parameters.${n}`, message: `no collection ${String(params[n])} in this tenant` }));
  if (problems.length > 0) throw invalidParameters(problems);
  return params;
}

function invalidParameters(errors: FieldError[]): ApiError {
  return new ApiError("UNPROCESSABLE", {
    detail: "The template's parameters are not valid for this tenant; see errors.",
    errors,
  });
}

/**
 * One template agent, created as `POST /v1/agents` creates an agent: checked against the
 * tenant's rules, then the agent row and its version 1, audited `agent.create`. The model is the
 * only part a caller chooses, so a refusal of it is reported as the `model` parameter's.
 */
async function createAgent(c: Context, spec: TemplateAgent, workflowName: string, templateId: string) {
  const db = c.get("db");
  const tools = spec.tools ?? [];
  const model = spec.model ?? "";
  await checkAgentDefinition(db, { model, tools }).catch((error: unknown) => {
    if (!(error instanceof ApiError) || error.code !== "UNPROCESSABLE") throw error;
    const errors = (error.errors ?? []).map((e) => ({
      path: e.path === "model" ? "parameters.model" : `agents.${spec.key}.${e.path}`,
      message: e.message,
    }));
    throw invalidParameters(errors);
  });
  const agent = await insertAgent(db, {
    name: `${workflowName}: ${spec.name}`.slice(0, 200),
    description: spec.description,
    definition: { model, systemPrompt: spec.systemPrompt, tools, capabilities: [], resourceLimits: {} },
    metadata: { workflowTemplate: templateId, templateAgent: spec.key },
    createdBy: principalId(c.get("principal")),
  });
  await audit(c, {
    action: "agent.create",
    resourceType: "agent",
    resourceId: agent.id,
    changes: { name: agent.name, model: agent.model, template: templateId },
  });
  return agent;
}
