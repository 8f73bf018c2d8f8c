import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { cachedCollection } from "../../cache/collections";
import { cacheDeps } from "../../cache/request";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { collectionStats } from "./load";
import { collectionWithStatsSchema, toCollectionResponse } from "./schemas";

const route = createRoute({
  operationId: "getCollection",
  tags: ["knowledge-bases"],
  method: "get",
  path: "/v1/rag/collections/{id}",
  summary: "Get a collection with its documents counted by ingestion status",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "collection") }) },
  responses: {
    200: {
      description: "The collection.",
      content: { "application/json": { schema: collectionWithStatsSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetCollection(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:read");
    const db = c.get("db");
    const row = await cachedCollection(cacheDeps(c), db, c.req.valid("param").id);
    return c.json({ ...toCollectionResponse(row), stats: await collectionStats(db, row.id) }, 200);
  });
}
