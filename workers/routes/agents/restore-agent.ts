import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNotNull } from "drizzle-orm";
import { agents } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { invalidateAgent } from "../../cache/agents";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { enforceCountQuota } from "../../quotas/counts";
import { agentSchema, toAgentResponse } from "./schemas";

const route = createRoute({
  operationId: "restoreAgent",
  tags: ["agents"],
  method: "post",
  path: "/v1/agents/{id}/restore",
  summary: "Undo a delete (until the purge removes the agent)",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent") }) },
  responses: {
    200: { description: "Restored.", content: { "application/json": { schema: agentSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerRestoreAgent(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:write");
    const id = c.req.valid("param").id;
    const db = c.get("db");
    invalidateAgent(c, id);
    const [agent] = await db
      .update(agents)
      .set({ deletedAt: null })
      .where(and(eq(agents.tenantId, db.tenantId), eq(agents.id, id), isNotNull(agents.deletedAt)))
      .returning();
    if (!agent) throw new ApiError("NOT_FOUND", { detail: `No deleted agent ${id}.` });
    await enforceCountQuota(db, "agents");
    await audit(c, { action: "agent.restore", resourceType: "agent", resourceId: id });
    return c.json(toAgentResponse(agent), 200);
  });
}
