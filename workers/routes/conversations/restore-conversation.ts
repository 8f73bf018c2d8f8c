import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNotNull } from "drizzle-orm";
import { conversations } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { conversationSchema, toConversationResponse } from "./schemas";

const route = createRoute({
  operationId: "restoreConversation",
  tags: ["conversations"],
  method: "post",
  path: "/v1/conversations/{id}/restore",
  summary: "Undo a delete (until the purge removes the conversation)",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "conversation") }) },
  responses: {
    200: { description: "Restored.", content: { "application/json": { schema: conversationSchema } } },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerRestoreConversation(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "conversations:write");
    const id = c.req.valid("param").id;
    const db = c.get("db");
    const [conversation] = await db
      .update(conversations)
      .set({ deletedAt: null })
      .where(
        and(
          eq(conversations.tenantId, db.tenantId),
          eq(conversations.id, id),
          isNotNull(conversations.deletedAt),
        ),
      )
      .returning();
    if (!conversation) throw new ApiError("NOT_FOUND", { detail: `No deleted conversation ${id}.` });
    await audit(c, { action: "conversation.restore", resourceType: "conversation", resourceId: id });
    return c.json(toConversationResponse(conversation), 200);
  });
}
