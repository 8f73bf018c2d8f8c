import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { agents, agentVersions } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { invalidateAgent } from "../../cache/agents";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { metadata, uuidParam } from "../../lib/schemas";
import { loadAgent } from "./load";
import { agentSchema, definitionFields, toAgentResponse } from "./schemas";
import { checkAgentDefinition } from "./validate";

const body = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    ...definitionFields,
    model: definitionFields.model.optional(),
    metadata: metadata.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "send at least one field")
  .openapi("UpdateAgentRequest");

const route = createRoute({
  operationId: "updateAgent",
  tags: ["agents"],
  method: "patch",
  path: "/v1/agents/{id}",
  summary: "Change an agent; a change to its definition makes a new version",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "agent") }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: { description: "The updated agent.", content: { "application/json": { schema: agentSchema } } },
    ...problemResponses(400, 401, 403, 404, 413, 422, 429, 500),
  },
});

const VERSIONED = [
  "name",
  "description",
  "model",
  "systemPrompt",
  "tools",
  "capabilities",
  "resourceLimits",
] as const;

export function registerUpdateAgent(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "agents:write");
    const input = c.req.valid("json");
    const db = c.get("db");
    // Row lock: two concurrent PATCHes get consecutive versions instead of colliding.
    const current = await loadAgent(db, c.req.valid("param").id, { forUpdate: true });
    await checkAgentDefinition(db, input, current.id);

    const next = {
      name: input.name ?? current.name,
      description: input.description === undefined ? current.description : input.description,
      model: input.model ?? current.model,
      systemPrompt: input.systemPrompt === undefined ? current.systemPrompt : input.systemPrompt,
      tools: input.tools ?? current.tools,
      capabilities: input.capabilities ?? current.capabilities,
      resourceLimits: input.resourceLimits ?? current.resourceLimits,
    };
    const changed = VERSIONED.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]));
    const metadataChanged =
      input.metadata !== undefined && JSON.stringify(input.metadata) !== JSON.stringify(current.metadata);
    if (changed.length === 0 && !metadataChanged) return c.json(toAgentResponse(current), 200);

    const version = changed.length > 0 ? current.currentVersion + 1 : current.currentVersion;
    invalidateAgent(c, current.id);
    const [updated] = await db
      .update(agents)
      .set({ ...next, metadata: input.metadata ?? current.metadata, currentVersion: version })
      .where(eq(agents.id, current.id))
      .returning();
    if (!updated) throw new ApiError("NOT_FOUND", { detail: `Agent ${current.id} not found.` });
    if (changed.length > 0) {
      const createdBy =
        caller.kind === "user" ? caller.userId : caller.kind === "api_key" ? caller.keyId : null;
      await db
        .insert(agentVersions)
        .values({ tenantId: db.tenantId, agentId: current.id, version, ...next, createdBy });
    }
    await audit(c, {
      action: "agent.update",
      resourceType: "agent",
      resourceId: current.id,
      changes: { fields: metadataChanged ? [...changed, "metadata"] : changed, version },
    });
    return c.json(toAgentResponse(updated), 200);
  });
}
