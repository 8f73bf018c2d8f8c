import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNull, lt, type SQL } from "drizzle-orm";
import { apiKeys } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { apiKeySchema, toApiKeyResponse } from "./schemas";

const query = pageQuery.extend({
  includeRevoked: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true")
    .openapi({ description: "Also list revoked keys." }),
});
const page = pageOf(apiKeySchema, "ApiKeyPage");

const route = createRoute({
  operationId: "listApiKeys",
  tags: ["api-keys"],
  method: "get",
  path: "/v1/api-keys",
  summary: "List API keys, newest first (never their secrets)",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of keys.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListApiKeys(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "api_keys:read");
    const { limit, cursor, includeRevoked } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [eq(apiKeys.tenantId, db.tenantId)];
    if (!includeRevoked) filters.push(isNull(apiKeys.revokedAt));
    if (after) filters.push(lt(apiKeys.id, after));
    const rows = await db
      .select()
      .from(apiKeys)
      .where(and(...filters))
      .orderBy(desc(apiKeys.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toApiKeyResponse), nextCursor }, 200);
  });
}
