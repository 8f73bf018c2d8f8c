import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { conversations } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadConversation } from "./load";

const route = createRoute({
  operationId: "deleteConversation",
  tags: ["conversations"],
  method: "delete",
  path: "/v1/conversations/{id}",
  summary: "Delete a conversation and its messages (restorable until the purge)",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "conversation") }) },
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerDeleteConversation(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "conversations:write");
    const db = c.get("db");
    const conversation = await loadConversation(db, c.req.valid("param").id);
    await db
      .update(conversations)
      .set({ deletedAt: new Date() })
      .where(and(eq(conversations.tenantId, db.tenantId), eq(conversations.id, conversation.id)));
    await audit(c, {
      action: "conversation.delete",
      resourceType: "conversation",
      resourceId: conversation.id,
    });
    return c.body(null, 204);
  });
}
