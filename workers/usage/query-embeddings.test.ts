import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usageEvents } from "../../db/schema/usage";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import { estimateTokens } from "../rag/chunk/tokens";
import { withTenantDb } from "../routes/conversations/test-fixtures";
import { createCollection, settled, uploadText } from "../routes/rag-documents/test-fixtures";
import type { RagQueryResponse } from "../routes/rag-query/schemas";
import type { RagSearchResponse } from "../routes/rag-search/search";
import type { UsageReport } from "../routes/usage/schemas";
import { queryEmbeddingEvents } from "./query-embedding";
import { recordUsageEvents } from "./record";

const QUERY = "how long do refunds take?";

/** The tenant's query-embedding rows (ingestion's embeddings are keyed by document, not by query). */
function queryEmbeddings(tenantId: string) {
  return withTenantDb(tenantId, (db) =>
    db
      .select()
      .from(usageEvents)
      .where(and(eq(usageEvents.meter, "embedding_tokens"), eq(usageEvents.resourceType, "rag_query"))),
  );
}

async function search(token: string, body: Record<string, unknown>): Promise<RagSearchResponse> {
  const res = await api.post<RagSearchResponse>("/v1/rag/search", { token, body: { query: QUERY, ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe("usage: query embeddings", () => {
  it("meters a search's query embedding per embedding model under its query, once", async () => {
    const { tenant, token, owner } = await createTenant();
    const kb = await createCollection(token);
    const other = await createCollection(token, {
      embedding: { provider: "local", model: "meridian-test-model-b", dimensions: 384 },
    });
    const doc = await uploadText(token, kb.id, "Refunds are paid within 30 days to the original card.");
    expect((await settled(token, doc.id)).status).toBe("indexed");

    const found = await search(token, { collectionIds: [kb.id, other.id] });
    expect(found.hits.length).toBeGreaterThan(0);
    const rows = await queryEmbeddings(tenant.id);
    // The offline model counts its own estimate: what the vendor would bill for the query.
    expect(rows.map((r) => [r.eventKey, r.model, r.quantity]).sort()).toEqual(
      [
        [
          `rag_query_embedding:${found.queryId}:${kb.embedding.model}:embedding_tokens`,
          kb.embedding.model,
          estimateTokens(QUERY),
        ],
        [
          `rag_query_embedding:${found.queryId}:meridian-test-model-b:embedding_tokens`,
          "meridian-test-model-b",
          estimateTokens(QUERY),
        ],
      ].sort(),
    );
    for (const row of rows) {
      expect(row).toMatchObject({
        unit: "tokens",
        costMicroUsd: 0,
        resourceType: "rag_query",
        resourceId: found.queryId,
        userId: owner.id,
        apiKeyId: null,
      });
    }

    // The events again, as a replay of the recorded query would build them: nothing more is billed.
    await withTenantDb(tenant.id, (db) =>
      recordUsageEvents(
        db,
        queryEmbeddingEvents({
          queryId: found.queryId,
          actor: { kind: "user", id: owner.id, role: "owner" },
          embeddings: [
            { model: kb.embedding.model, tokens: 999 },
            { model: "meridian-test-model-b", tokens: 999 },
          ],
        }),
      ),
    );
    expect((await queryEmbeddings(tenant.id)).map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());

    // A full-text search embeds nothing; a repeated search embeds again and is a query of its own.
    const fulltext = await search(token, { collectionIds: [kb.id], mode: "fulltext" });
    const repeated = await search(token, { collectionIds: [kb.id] });
    const after = await queryEmbeddings(tenant.id);
    expect(after.filter((r) => r.resourceId === fulltext.queryId)).toEqual([]);
    expect(after.filter((r) => r.resourceId === repeated.queryId).map((r) => r.quantity)).toEqual([
      estimateTokens(QUERY),
    ]);
  });

  it("meters an answer's query embedding with the query, and GET /v1/usage agrees with the events", async () => {
    const { tenant, token, keyWithRole } = await createTenant();
    const kb = await createCollection(token);
    const key = await keyWithRole("member");
    // Nothing retrieved: no model call, but the query was embedded.
    const res = await api.post<RagQueryResponse>("/v1/rag/query", {
      token: key,
      body: { query: QUERY, collectionIds: [kb.id] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.model).toBeNull();
    const rows = await queryEmbeddings(tenant.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      eventKey: `rag_query_embedding:${res.body.queryId}:${kb.embedding.model}:embedding_tokens`,
      quantity: estimateTokens(QUERY),
      model: kb.embedding.model,
      resourceId: res.body.queryId,
      userId: null,
    });
    expect(rows[0]?.apiKeyId).not.toBeNull();

    await search(token, { collectionIds: [kb.id] });
    const all = await withTenantDb(tenant.id, (db) =>
      db.select().from(usageEvents).where(eq(usageEvents.meter, "embedding_tokens")),
    );
    const report = await api.get<UsageReport>("/v1/usage?groupBy=model", { token });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body.totals.byMeter.embedding_tokens).toEqual({
      quantity: all.reduce((sum, r) => sum + r.quantity, 0),
      costMicroUsd: 0,
    });
    expect(report.body.groups).toEqual([
      {
        model: kb.embedding.model,
        meter: "embedding_tokens",
        quantity: 2 * estimateTokens(QUERY),
        costMicroUsd: 0,
      },
    ]);
  });
});
