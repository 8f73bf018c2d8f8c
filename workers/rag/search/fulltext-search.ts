import { and, asc, desc, sql } from "drizzle-orm";
import { chunks, documents } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { type Candidate, type CandidateScope, liveDocumentJoin, scopeConditions } from "./candidates";

/**
 * `ts_rank_cd` normalisation 32 divides the rank by itself plus one, so scores fall in [0, 1)
 * and a `minScore` means the same thing for a short chunk as for a long one's raw rank.
 */
const RANK_NORMALISATION = 32;

/**
 * Leaf chunks matching `query` (`websearch_to_tsquery('english', ...)`: words are stemmed and
 * ANDed, `"quoted phrases"`, `or` and `-excluded` work as on a search engine) by the GIN index on
 * `content_tsv`, best `ts_rank_cd` first. A query of stop words only has no lexemes and matches
 * nothing (PostgreSQL logs a notice, not an error).
 *
 * @example
 * const hits = await fulltextSearch(db, { collectionIds: [id] }, "vacuum dead tuples", 10);
 */
export async function fulltextSearch(
  db: TenantDb,
  scope: CandidateScope,
  query: string,
  limit: number,
): Promise<Candidate[]> {
  const tsquery = sql`websearch_to_tsquery('english', ${query})`;
  const rows = await db
    .select({
      chunkId: chunks.id,
      score: sql<number>`ts_rank_cd(${chunks.contentTsv}, ${tsquery}, ${sql.raw(String(RANK_NORMALISATION))})`
        .mapWith(Number)
        .as("score"),
    })
    .from(chunks)
    .innerJoin(documents, liveDocumentJoin)
    .where(and(...scopeConditions(db, scope), sql`${chunks.contentTsv} @@ ${tsquery}`))
    .orderBy(desc(sql`score`), asc(chunks.id))
    .limit(limit);
  return rows.map((row) => ({ chunkId: row.chunkId, score: row.score }));
}
