import { sql } from "drizzle-orm";
import { ragQueries, ragSources } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { newId } from "../../lib/ids";
import type { SearchHit } from "./search";

export interface RecordedQuery {
  kind: "search" | "answer";
  query: string;
  collectionIds: readonly string[];
  /** The request's knobs (mode, topK, filter...), kept to replay or evaluate it later. */
  params: Record<string, unknown>;
  latencyMs: number;
  createdBy: string | null;
  hits: readonly Pick<SearchHit, "chunkId" | "rank" | "score">[];
  /** Chunks the answer cites (`kind: "answer"`); their sources are marked `cited`. */
  cited?: ReadonlySet<string>;
  /** The model's answer and what it cost (`kind: "answer"`). */
  answer?: { text: string; model: string | null; inputTokens: number; outputTokens: number };
}

/**
 * Records a retrieval (and, for an answer, the answer and which hits it cites) as one
 * `rag_queries` row and a `rag_sources` row per hit, in the caller's transaction, so the record
 * exists exactly when the request succeeded. One statement: the query's insert rides in a CTE
 * of its sources' insert (the sources' foreign key is checked at the statement's end, when the
 * query row is there). Returns the query id.
 *
 * @example
 * const queryId = await recordRagQuery(db, { kind: "search", query, collectionIds, params, latencyMs, createdBy, hits });
 */
export async function recordRagQuery(db: TenantDb, entry: RecordedQuery): Promise<string> {
  const id = newId();
  const query = db.insert(ragQueries).values({
    id,
    tenantId: db.tenantId,
    collectionId: entry.collectionIds[0] ?? null,
    collectionIds: [...entry.collectionIds],
    kind: entry.kind,
    query: entry.query,
    params: entry.params,
    latencyMs: Math.round(entry.latencyMs),
    createdBy: entry.createdBy,
    answer: entry.answer?.text ?? null,
    model: entry.answer?.model ?? null,
    inputTokens: entry.answer?.inputTokens ?? null,
    outputTokens: entry.answer?.outputTokens ?? null,
  });
  if (entry.hits.length === 0) {
    await query;
    return id;
  }
  const sources = db.insert(ragSources).values(
    entry.hits.map((hit) => ({
      tenantId: db.tenantId,
      ragQueryId: id,
      chunkId: hit.chunkId,
      score: hit.score,
      rank: hit.rank,
      cited: entry.cited?.has(hit.chunkId) ?? false,
    })),
  );
  await db.execute(sql`with recorded_query as (${query.getSQL()}) ${sources.getSQL()}`);
  return id;
}
