import { createRoute } from "@hono/zod-openapi";
import { commitWithoutFlush, writeAtCommit } from "../../../db/tenant";
import { runActor } from "../../agents/run/spec";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { cacheDeps } from "../../cache/request";
import { problemResponses } from "../../lib/problem-responses";
import { embeddingSettings } from "../../rag/embed/provider";
import { ragQueryStatement } from "../../rag/search/record-query";
import { queryEmbeddingEvents } from "../../usage/query-embedding";
import { recordUnbilledUsageAtCommit } from "../../usage/record";
import { retrieve } from "./retrieve";
import { ragSearchRequestSchema, ragSearchResponseSchema, toHitResponse } from "./schemas";

export type { RagSearchResponse } from "./schemas";

const route = createRoute({
  operationId: "ragSearch",
  tags: ["rag"],
  method: "post",
  path: "/v1/rag/search",
  summary: "Search knowledge-base collections",
  description:
    "Retrieval only: the chunks of the given collections that best match the query, by vector similarity, " +
    "full text or both (`mode`), each with its document and parent passage. Chunks of deleted documents are " +
    "never returned. The query and its hits are recorded (`queryId`) for evaluation. Every role may search " +
    "(`rag:read`). A collection whose embedding vendor is not configured or refuses the query answers 422; a " +
    "vendor failure that may pass (rate limit, outage) answers 503.",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: ragSearchRequestSchema } } } },
  responses: {
    200: {
      description: "The hits, best first.",
      content: { "application/json": { schema: ragSearchResponseSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 500, 503),
  },
});

export function registerRagSearch(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:read");
    const input = c.req.valid("json");
    const db = c.get("db");
    const started = Date.now();
    const { hits, embeddings, collectionIds } = await retrieve(
      embeddingSettings(c.get("config"), c.env),
      db,
      input,
      cacheDeps(c),
    );
    const tookMs = Date.now() - started;
    // The record and its usage travel with the COMMIT: nothing here reads them back. They only
    // record a read, so the commit does not wait for the WAL flush either (commitWithoutFlush).
    const { id: queryId, statement } = ragQueryStatement(db, {
      kind: "search",
      query: input.query,
      collectionIds,
      params: {
        mode: input.mode,
        topK: input.topK,
        includeParents: input.includeParents,
        ...(input.minScore !== undefined ? { minScore: input.minScore } : {}),
        ...(input.filter !== undefined ? { filter: input.filter } : {}),
      },
      latencyMs: tookMs,
      createdBy: principalId(c.get("principal")),
      hits,
    });
    writeAtCommit(db, statement);
    commitWithoutFlush(db);
    recordUnbilledUsageAtCommit(
      db,
      queryEmbeddingEvents({ queryId, actor: runActor(c.get("principal")), embeddings }),
    );
    return c.json({ queryId, mode: input.mode, tookMs, hits: hits.map(toHitResponse) }, 200);
  });
}
