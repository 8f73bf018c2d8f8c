import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { agentMessages } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { agentMessageSchema, toAgentMessageResponse } from "./schemas";

const route = createRoute({
  operationId: "getAgentMessage",
  tags: ["agent-messages"],
  method: "get",
  path: "/v1/agent-messages/{id}",
  summary: "Get one message between agents",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "agent message") }) },
  responses: {
    200: { description: "The message.", content: { "application/json": { schema: agentMessageSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetAgentMessage(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "agents:read");
    const db = c.get("db");
    const { id } = c.req.valid("param");
    const [message] = await db
      .select()
      .from(agentMessages)
      .where(and(eq(agentMessages.tenantId, db.tenantId), eq(agentMessages.id, id)));
    if (!message) throw new ApiError("NOT_FOUND", { detail: `Agent message ${id} not found.` });
    return c.json(toAgentMessageResponse(message), 200);
  });
}
