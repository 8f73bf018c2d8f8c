import type { RunActor } from "../agents/run/spec";
import { principalColumns } from "./model-call";
import type { UsageEvent } from "./record";

/**
 * The events of the query embeddings behind a recorded search or answer: the tokens of each
 * embedding model the query was embedded with (one per distinct model among the searched
 * collections; none for a full-text search), keyed by the recorded query. Neither route takes an
 * Idempotency-Key and each request embeds afresh and records its own query, so the query's id
 * is the work item; recording the events with the query makes them exactly as many as the
 * recorded queries. Not priced yet, like the embeddings of ingestion.
 */
export function queryEmbeddingEvents(query: {
  queryId: string;
  actor: RunActor;
  embeddings: ReadonlyArray<{ model: string; tokens: number }>;
}): UsageEvent[] {
  return tokensByModel(query.embeddings).map(([model, tokens]) => ({
    eventKey: `rag_query_embedding:${query.queryId}:${model}:embedding_tokens`,
    meter: "embedding_tokens",
    quantity: tokens,
    unit: "tokens",
    model,
    resourceType: "rag_query",
    resourceId: query.queryId,
    ...principalColumns(query.actor),
  }));
}

/** The embeddings' tokens summed per model, models with none left out: one event each. */
export function tokensByModel(
  embeddings: ReadonlyArray<{ model: string; tokens: number }>,
): [string, number][] {
  const byModel = new Map<string, number>();
  for (const { model, tokens } of embeddings) byModel.set(model, (byModel.get(model) ?? 0) + tokens);
  return [...byModel].filter(([, tokens]) => tokens > 0);
}
