import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { agents } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { invalidateAgent } from "../../cache/agents";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadAgent } from "./load";

const route = createRoute({
  operationId: "deleteAgent",
  tags: ["agents"],
  method: "delete",
  path: "/v1/agents/{id}",
  summary: "Delete an agent (restorable for 30 days, then purged)",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent") }) },
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerDeleteAgent(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:write");
    const db = c.get("db");
    const agent = await loadAgent(db, c.req.valid("param").id);
    invalidateAgent(c, agent.id);
    await db.update(agents).set({ deletedAt: new Date() }).where(eq(agents.id, agent.id));
    await audit(c, { action: "agent.delete", resourceType: "agent", resourceId: agent.id });
    return c.body(null, 204);
  });
}
