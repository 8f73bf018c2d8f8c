import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ragQueries, ragSources } from "../../../db/schema/rag";
import { usageEvents } from "../../../db/schema/usage";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant, PLATFORM_ADMIN_TOKEN } from "../../../test/harness/fixtures";
import { modelRequests, scriptModel } from "../../../test/harness/model";
import type { QuotaReport } from "../../quotas/report";
import { estimateTokens } from "../../rag/chunk/tokens";
import { withTenantDb } from "../conversations/test-fixtures";
import { createCollection, type DocumentResponse, settled, uploadText } from "../rag-documents/test-fixtures";
import type { RagQueryResponse } from "./schemas";

const POLICY = "Refunds are paid within 30 days to the original card. Store credit never expires.";
const CITED = "within 30 days";

/** A model answer citing `CITED` in the first document it was given. */
function citedAnswer() {
  const start = POLICY.indexOf(CITED);
  return {
    message: {
      content: [
        { type: "text", text: "Refunds arrive " },
        {
          type: "text",
          text: "within a month.",
          citations: [
            {
              type: "char_location",
              cited_text: CITED,
              document_index: 0,
              document_title: "Refund policy",
              start_char_index: start,
              end_char_index: start + CITED.length,
            },
          ],
        },
      ],
    },
  };
}

async function knowledgeBase() {
  const tenant = await createTenant();
  const collection = await createCollection(tenant.token);
  const doc = await uploadText(tenant.token, collection.id, POLICY, { title: "Refund policy" });
  await uploadText(tenant.token, collection.id, "Our office plants are watered every Friday morning.");
  expect((await settled(tenant.token, doc.id)).status).toBe("indexed");
  return { tenant, collection, doc };
}

function parseSse(text: string): { event: string; data: unknown }[] {
  return text
    .split("\n\n")
    .filter((frame) => frame.trim())
    .map((frame) => {
      const lines = frame.split("\n");
      const event =
        lines
          .find((l) => l.startsWith("event:"))
          ?.slice(6)
          .trim() ?? "message";
      const data = lines
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n");
      return { event, data: JSON.parse(data) };
    });
}

describe("POST /v1/rag/query", () => {
  it("answers from retrieved chunks with citations that point at the document's exact characters", async () => {
    const { tenant, collection, doc } = await knowledgeBase();
    const scenario = await scriptModel([citedAnswer()]);
    const res = await api.post<RagQueryResponse>("/v1/rag/query", {
      token: tenant.token,
      headers: { "x-model-scenario": scenario },
      body: { query: "How long do refunds take?", collectionIds: [collection.id], topK: 2 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.answer).toBe("Refunds arrive within a month.");
    expect(res.body.model).toBe("claude-sonnet-4-6");
    expect(res.body.sources[0]?.documentId).toBe(doc.id);
    const [citation] = res.body.citations;
    expect(citation).toMatchObject({
      documentId: doc.id,
      chunkId: res.body.sources[0]?.chunkId,
      citedText: CITED,
      verified: true,
      answerStart: "Refunds arrive ".length,
      answerEnd: res.body.answer.length,
    });
    // The client's check: the document's text holds the cited words at the stated offsets.
    const content = await api.get<DocumentResponse>(`/v1/rag/documents/${doc.id}?include=content`, {
      token: tenant.token,
    });
    expect(content.body.content?.slice(citation?.startOffset, citation?.endOffset)).toBe(CITED);

    // The model got each chunk as a citable document, then the question.
    const [request] = await modelRequests(scenario);
    const sent = request?.body.messages[0]?.content as {
      type: string;
      citations?: { enabled: boolean };
      title?: string;
    }[];
    expect(sent.at(-1)).toEqual({ type: "text", text: "How long do refunds take?" });
    expect(sent[0]).toMatchObject({ type: "document", title: "Refund policy", citations: { enabled: true } });

    const recorded = await withTenantDb(tenant.tenant.id, async (db) => ({
      query: await db.select().from(ragQueries).where(eq(ragQueries.id, res.body.queryId)),
      sources: await db.select().from(ragSources).where(eq(ragSources.ragQueryId, res.body.queryId)),
    }));
    expect(recorded.query[0]).toMatchObject({
      kind: "answer",
      answer: res.body.answer,
      model: "claude-sonnet-4-6",
    });
    expect(recorded.sources.find((s) => s.chunkId === citation?.chunkId)?.cited).toBe(true);
    expect(recorded.sources.filter((s) => s.cited)).toHaveLength(1);
  });

  it("streams sources, text, citations and a final record", async () => {
    const { tenant, collection } = await knowledgeBase();
    const scenario = await scriptModel([citedAnswer()]);
    const res = await api.post<string>("/v1/rag/query", {
      token: tenant.token,
      headers: { "x-model-scenario": scenario },
      body: { query: "How long do refunds take?", collectionIds: [collection.id], stream: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(res.body);
    expect(events[0]?.event).toBe("sources");
    expect(events.at(-1)?.event).toBe("done");
    const text = events
      .filter((e) => e.event === "text_delta")
      .map((e) => (e.data as { text: string }).text)
      .join("");
    expect(text).toBe("Refunds arrive within a month.");
    const citations = events
      .filter((e) => e.event === "citation")
      .map((e) => e.data as { citedText: string });
    expect(citations.map((c) => c.citedText)).toEqual([CITED]);
    expect((events.at(-1)?.data as RagQueryResponse | undefined)?.citations).toHaveLength(1);
  });

  it("answers without asking the model when nothing is retrieved", async () => {
    const tenant = await createTenant();
    const empty = await createCollection(tenant.token);
    const res = await api.post<RagQueryResponse>("/v1/rag/query", {
      token: tenant.token,
      body: { query: "anything at all", collectionIds: [empty.id] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      sources: [],
      citations: [],
      model: null,
      usage: { inputTokens: 0, outputTokens: 0 },
    });
  });

  it("refuses viewers, models the tenant may not use, other tenants' collections, and reports provider failures as 502", async () => {
    const { tenant, collection } = await knowledgeBase();
    const viewer = await tenant.keyWithRole("viewer");
    const body = { query: "refunds?", collectionIds: [collection.id] };
    expect((await api.post("/v1/rag/query", { token: viewer, body })).status).toBe(403);

    const model = await api.post<ProblemBody>("/v1/rag/query", {
      token: tenant.token,
      body: { ...body, model: "gpt-4" },
    });
    expect(model.status).toBe(422);

    const other = await createTenant();
    expect((await api.post("/v1/rag/query", { token: other.token, body })).status).toBe(404);

    const failing = await scriptModel([
      { error: { status: 500, type: "api_error" } },
      { error: { status: 500, type: "api_error" } },
      { error: { status: 500, type: "api_error" } },
      { error: { status: 500, type: "api_error" } },
    ]);
    const failed = await api.post<ProblemBody>("/v1/rag/query", {
      token: tenant.token,
      headers: { "x-model-scenario": failing },
      body,
    });
    expect(failed.status).toBe(502);
    expect(failed.body.code).toBe("BAD_GATEWAY");
  });

  it("meters the answer's tokens once under its query, and holds them against the tenant's budget first", async () => {
    const { tenant, collection } = await knowledgeBase();
    const ask = async () =>
      api.post<RagQueryResponse | ProblemBody>("/v1/rag/query", {
        token: tenant.token,
        headers: { "x-model-scenario": await scriptModel([citedAnswer()]) },
        body: { query: "How long do refunds take?", collectionIds: [collection.id], topK: 2, maxTokens: 300 },
      });
    const first = await ask();
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const answer = first.body as RagQueryResponse;
    const events = await withTenantDb(tenant.tenant.id, (db) =>
      db.select().from(usageEvents).where(eq(usageEvents.resourceId, answer.queryId)),
    );
    expect(events.map((e) => [e.eventKey, e.quantity]).sort()).toEqual(
      [
        [`rag_answer:${answer.queryId}:model_input_tokens`, answer.usage.inputTokens],
        [`rag_answer:${answer.queryId}:model_output_tokens`, answer.usage.outputTokens],
        // The question's embedding, not priced (workers/usage/query-embeddings.test.ts).
        [
          `rag_query_embedding:${answer.queryId}:${collection.embedding.model}:embedding_tokens`,
          estimateTokens("How long do refunds take?"),
        ],
      ].sort(),
    );
    // claude-sonnet-4-6: 3 and 15 micro-USD a token.
    expect(events.reduce((sum, e) => sum + e.costMicroUsd, 0)).toBe(
      answer.usage.inputTokens * 3 + answer.usage.outputTokens * 15,
    );
    const quotas = async () => (await api.get<QuotaReport>("/v1/quotas", { token: tenant.token })).body;
    const spent = (await quotas()).used.tokens;
    expect(spent).toBe(answer.usage.inputTokens + answer.usage.outputTokens);

    // Room left for less than the answer's hold (its 300 output tokens alone): refused before the model is asked.
    const put = await api.put(`/v1/tenants/${tenant.tenant.id}/quotas`, {
      token: PLATFORM_ADMIN_TOKEN,
      body: { monthlyTokenBudget: spent + 200 },
    });
    expect(put.status).toBe(200);
    const refused = await ask();
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ code: "PAYMENT_REQUIRED" });
    expect((await quotas()).used).toMatchObject({ tokens: spent, heldTokens: 0 });
  });
});
