import { createRoute, type z } from "@hono/zod-openapi";
import { and, desc, eq, isNull, lt, type SQL } from "drizzle-orm";
import { collections } from "../../../db/schema/rag";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { collectionSchema, toCollectionResponse } from "./schemas";

const page = pageOf(collectionSchema, "CollectionPage");
export type ListCollectionsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listCollections",
  tags: ["knowledge-bases"],
  method: "get",
  path: "/v1/rag/collections",
  summary: "List the tenant's collections, newest first",
  security: [{ bearer: [] }],
  request: { query: pageQuery },
  responses: {
    200: { description: "A page of collections.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListCollections(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:read");
    const { limit, cursor } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [eq(collections.tenantId, db.tenantId), isNull(collections.deletedAt)];
    if (after) filters.push(lt(collections.id, after));
    const rows = await db
      .select()
      .from(collections)
      .where(and(...filters))
      .orderBy(desc(collections.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toCollectionResponse), nextCursor }, 200);
  });
}
