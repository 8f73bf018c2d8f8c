import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { apiKeys } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadApiKey, requireRankOver } from "./load";

const route = createRoute({
  operationId: "revokeApiKey",
  tags: ["api-keys"],
  method: "delete",
  path: "/v1/api-keys/{id}",
  summary: "Revoke an API key; it stops working at once",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "API key") }) },
  responses: {
    204: { description: "Revoked (or already revoked)." },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerRevokeApiKey(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "api_keys:write");
    const db = c.get("db");
    const key = await loadApiKey(db, c.req.valid("param").id);
    requireRankOver(caller, key);
    if (!key.revokedAt) {
      await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, key.id));
      await audit(c, { action: "api_key.revoke", resourceType: "api_key", resourceId: key.id });
    }
    return c.body(null, 204);
  });
}
