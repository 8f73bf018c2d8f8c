import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadDocument } from "./load";
import { documentWithContentSchema, toDocumentResponse } from "./schemas";

const route = createRoute({
  operationId: "getDocument",
  tags: ["knowledge-bases"],
  method: "get",
  path: "/v1/rag/documents/{id}",
  summary: "Get a document and where its ingestion stands",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "document") }),
    query: z.object({
      include: z.enum(["content"]).optional().openapi({
        description: "`content` adds the extracted text, to check a citation's offsets against.",
      }),
    }),
  },
  responses: {
    200: {
      description: "The document.",
      content: { "application/json": { schema: documentWithContentSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerGetDocument(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:read");
    const row = await loadDocument(c.get("db"), c.req.valid("param").id);
    const withContent = c.req.valid("query").include === "content";
    return c.json({ ...toDocumentResponse(row), content: withContent ? row.content : null }, 200);
  });
}
