import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { streamSSE } from "hono/streaming";
import { tenants } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import { providerFor, providerTestHeaders, SCENARIO_HEADER } from "../../agents/provider";
import { providerFailure } from "../../agents/run/failure";
import type { App, Context } from "../../app";
import { authorize } from "../../auth/authorize";
import { principalId } from "../../auth/principal";
import { cacheDeps } from "../../cache/request";
import { ApiError } from "../../lib/errors";
import { quotasOf } from "../../lib/limits";
import { allowedModels } from "../../lib/models";
import { problemResponses } from "../../lib/problem-responses";
import { tenantTransaction } from "../../middleware/tenant-db";
import { admitAgainstBudgets, type Budget, QUOTA_WARNING_HEADER } from "../../quotas/budget";
import { type AnswerEvent, type AnswerResult, generateAnswer } from "../../rag/answer/generate-answer";
import { embeddingSettings } from "../../rag/embed/provider";
import { recordRagQuery } from "../../rag/search/record-query";
import type { SearchHit, SearchResult } from "../../rag/search/search";
import { queryEmbeddingEvents } from "../../usage/query-embedding";
import { recordUsageEvents } from "../../usage/record";
import { retrieve } from "../rag-search/retrieve";
import { toHitResponse } from "../rag-search/schemas";
import { type AnswerBilling, answerBilling, holdForAnswer, releaseAnswerHold, settleAnswer } from "./billing";
import {
  type RagQueryRequest,
  type RagQueryResponse,
  ragQueryRequestSchema,
  ragQueryResponseSchema,
} from "./schemas";

const DEFAULT_MODEL = "claude-sonnet-4-6";
/** The answer's time limit, retries included. */
const ANSWER_TIMEOUT_MS = 120_000;
const NOTHING_FOUND = "The knowledge base has nothing on this question.";

const route = createRoute({
  operationId: "ragQuery",
  tags: ["rag"],
  method: "post",
  path: "/v1/rag/query",
  summary: "Answer a question from knowledge-base collections, with citations",
  description:
    "Retrieves like `/v1/rag/search`, then asks the model to answer from the retrieved chunks only. Each " +
    "citation names the chunk, the document and the character offsets of the cited text in the document's " +
    "extracted text, so a client can check it. `stream: true` answers as server-sent events. The query, " +
    "its sources and which of them were cited are recorded (`queryId`). Members and up (`rag:query`).",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: ragQueryRequestSchema } } } },
  responses: {
    200: {
      description: "The answer (JSON), or its event stream with `stream: true`.",
      content: {
        "application/json": { schema: ragQueryResponseSchema },
        "text/event-stream": { schema: { type: "string" } },
      },
    },
    ...problemResponses(400, 401, 402, 403, 404, 413, 415, 422, 429, 500, 502, 503),
  },
});

export function registerRagQuery(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "rag:query");
    const input = c.req.valid("json");
    const started = Date.now();
    const model = input.model ?? DEFAULT_MODEL;
    // Retrieval in a short read-only transaction of its own: none stays open while the model writes.
    const { hits, embeddings, budget, warning } = await tenantTransaction(
      c,
      async (db) => {
        const { budget, warning } = await checkModelAndBudget(db, model);
        const { hits, embeddings } = await retrieve(
          embeddingSettings(c.get("config"), c.env),
          db,
          input,
          cacheDeps(c),
        );
        return { hits, embeddings, budget, warning };
      },
      { readOnly: true },
    );
    if (warning) c.header(QUOTA_WARNING_HEADER, warning);
    const billing = answerBilling(c, model, budget);
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    if (hits.length > 0)
      await holdForAnswer(c, billing, { question: input.query, hits, maxTokens: input.maxTokens, deadline });

    if (!input.stream) {
      let answer: AnswerResult | null;
      try {
        answer = await answerFrom(c, input, model, hits, deadline);
      } catch (error) {
        await releaseAnswerHold(c, billing);
        const failure = providerFailure(error);
        throw new ApiError(failure.code, { detail: failure.detail, cause: error });
      }
      return c.json(await finish(c, input, billing, { hits, embeddings }, answer, started), 200);
    }

    return streamSSE(c, async (stream) => {
      const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
      await send("sources", { sources: hits.map(toHitResponse) });
      const events: AnswerEvent[] = [];
      let flushing = Promise.resolve();
      const onEvent = (event: AnswerEvent) => {
        events.push(event);
        flushing = flushing.then(() =>
          event.type === "text_delta"
            ? send("text_delta", { text: event.text })
            : send("citation", event.citation),
        );
      };
      try {
        const answer = await answerFrom(c, input, model, hits, deadline, onEvent);
        await flushing;
        await send("done", await finish(c, input, billing, { hits, embeddings }, answer, started));
      } catch (error) {
        await releaseAnswerHold(c, billing);
        await flushing.catch(() => undefined);
        const failure = providerFailure(error);
        await send("error", { code: failure.code, detail: failure.detail });
      }
    });
  });
}

/**
 * The tenant may use `model`, and has budget left; returns its budgets and the warning header's
 * value.
 *
 * @throws ApiError UNPROCESSABLE (model), PAYMENT_REQUIRED (a budget used up)
 */
async function checkModelAndBudget(
  db: TenantDb,
  model: string,
): Promise<{ budget: Budget | null; warning: string | null }> {
  const [tenant] = await db
    .select({ settings: tenants.settings, limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  const models = allowedModels(tenant?.settings.allowedModels);
  if (!models.includes(model)) {
    throw new ApiError("UNPROCESSABLE", {
      detail: `The model ${model} is unknown or not allowed for this tenant.`,
      errors: [{ path: "model", message: `allowed: ${models.join(", ")}` }],
    });
  }
  return admitAgainstBudgets(db, quotasOf(tenant?.limits));
}

/** The model's cited answer, or null when nothing was retrieved (no model call: nothing to cite). */
async function answerFrom(
  c: Context,
  input: RagQueryRequest,
  model: string,
  hits: SearchHit[],
  deadline: number,
  onEvent?: (event: AnswerEvent) => void,
): Promise<AnswerResult | null> {
  if (hits.length === 0) return null;
  return generateAnswer(
    providerFor(c.get("config")),
    {
      model,
      maxTokens: input.maxTokens,
      question: input.query,
      hits,
      deadline,
      headers: providerTestHeaders(c.req.header(SCENARIO_HEADER), c.get("config")),
    },
    onEvent,
  );
}

/** Records the query, its sources, what was cited and what it used, and shapes the response. */
async function finish(
  c: Context,
  input: RagQueryRequest,
  billing: AnswerBilling,
  { hits, embeddings }: Pick<SearchResult, "hits" | "embeddings">,
  answer: AnswerResult | null,
  started: number,
): Promise<RagQueryResponse> {
  const tookMs = Date.now() - started;
  const cited = new Set(answer?.citations.map((citation) => citation.chunkId));
  const { model } = billing;
  const queryId = await tenantTransaction(c, async (db) => {
    const id = await recordRagQuery(db, {
      kind: "answer",
      query: input.query,
      collectionIds: input.collectionIds,
      params: {
        mode: input.mode,
        topK: input.topK,
        maxTokens: input.maxTokens,
        ...(input.filter ? { filter: input.filter } : {}),
      },
      latencyMs: tookMs,
      createdBy: principalId(c.get("principal")),
      hits,
      cited,
      answer: answer
        ? { text: answer.text, model, inputTokens: answer.inputTokens, outputTokens: answer.outputTokens }
        : { text: NOTHING_FOUND, model: null, inputTokens: 0, outputTokens: 0 },
    });
    await recordUsageEvents(db, queryEmbeddingEvents({ queryId: id, actor: billing.actor, embeddings }));
    if (answer) await settleAnswer(c, db, billing, id, answer);
    return id;
  });
  return {
    queryId,
    answer: answer?.text ?? NOTHING_FOUND,
    citations: answer?.citations ?? [],
    sources: hits.map(toHitResponse),
    model: answer ? model : null,
    usage: { inputTokens: answer?.inputTokens ?? 0, outputTokens: answer?.outputTokens ?? 0 },
    tookMs,
  };
}
