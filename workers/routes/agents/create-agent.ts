import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { metadata } from "../../lib/schemas";
import { idempotency, idempotencyHeaders } from "../../middleware/idempotency";
import { insertAgent } from "./insert-agent";
import { agentSchema, definitionFields, toAgentResponse } from "./schemas";
import { checkAgentDefinition } from "./validate";

const body = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: "analyst" }),
    description: z.string().max(2000).nullable().optional(),
    ...definitionFields,
    metadata: metadata.optional(),
  })
  .strict()
  .openapi("CreateAgentRequest");

const route = createRoute({
  operationId: "createAgent",
  tags: ["agents"],
  method: "post",
  path: "/v1/agents",
  summary: "Create an agent (version 1)",
  security: [{ bearer: [] }],
  middleware: [idempotency("agents:write")] as const,
  request: {
    headers: idempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: agentSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 422, 429, 500),
  },
});

export function registerCreateAgent(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "agents:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    await checkAgentDefinition(db, input);
    const agent = await insertAgent(db, {
      name: input.name,
      description: input.description ?? null,
      definition: {
        model: input.model,
        systemPrompt: input.systemPrompt ?? null,
        tools: input.tools ?? [],
        capabilities: input.capabilities ?? [],
        resourceLimits: input.resourceLimits ?? {},
      },
      metadata: input.metadata ?? {},
      createdBy: principalId(caller),
    });
    await audit(c, {
      action: "agent.create",
      resourceType: "agent",
      resourceId: agent.id,
      changes: { name: agent.name, model: agent.model },
    });
    return c.json(toAgentResponse(agent), 201, { location: `/v1/agents/${agent.id}` });
  });
}
