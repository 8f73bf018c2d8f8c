import { type SQLWrapper, sql } from "drizzle-orm";
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
 * The statement that records a retrieval (and, for an answer, the answer and which hits it
 * cites) as one `rag_queries` row and a `rag_sources` row per hit, and the query's new id. One
 * statement: the query's insert rides in a CTE of its sources' insert (the sources' foreign key
 * is checked at the statement's end, when the query row is there). Run it in the request's
 * transaction, so the record exists exactly when the request succeeded: awaited
 * (`recordRagQuery`) or with the COMMIT (`writeAtCommit`).
 *
 * @example
 * const { id, statement } = ragQueryStatement(db, { kind: "search", query, collectionIds, params, latencyMs, createdBy, hits });
 * writeAtCommit(db, statement);
 */
export function ragQueryStatement(db: TenantDb, entry: RecordedQuery): { id: string; statement: SQLWrapper } {
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
  if (entry.hits.length === 0) return { id, statement: query };
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
  return { id, statement: sql`with recorded_query as (${query.getSQL()}) ${sources.getSQL()}` };
}

/**
 * Records a retrieval now, in the caller's transaction (see `ragQueryStatement`). Returns the
 * query id.
 *
 * @example
 * const queryId = await recordRagQuery(db, { kind: "answer", query, collectionIds, params, latencyMs, createdBy, hits, cited, answer });
 */
export async function recordRagQuery(db: TenantDb, entry: RecordedQuery): Promise<string> {
  const { id, statement } = ragQueryStatement(db, entry);
  await db.execute(statement.getSQL());
  return id;
}
