import { and, type SQL, sql } from "drizzle-orm";
import {
  chunks,
  documents,
  type EmbeddingDim,
  embeddingDimIs,
  embeddingDistance,
} from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import { type Candidate, type CandidateScope, liveDocumentJoin, scopeConditions } from "./candidates";
import { type HydratedChunk, hydrateFound } from "./hydrate";

/** Collections embedded by one model, searched with that model's embedding of the query. */
export interface VectorGroup {
  collectionIds: readonly string[];
  dim: EmbeddingDim;
  vector: readonly number[];
}

/** pgvector's own ceiling for `hnsw.ef_search`. */
const MAX_EF_SEARCH = 1000;

/**
 * The HNSW candidate list size for a query wanting `limit` rows: at least 40 (pgvector's
 * default, measured at recall@10 0.94 with iterative scan) and 4x the rows wanted, so the first
 * pass of the graph usually holds them all and iterative scan only has to continue for filters.
 *
 * @example
 * efSearchFor(10); // 40
 * efSearchFor(50); // 200
 */
export function efSearchFor(limit: number): number {
  return Math.min(MAX_EF_SEARCH, Math.max(40, 4 * limit));
}

/**
 * One statement that finds the `limit` leaf chunks nearest to a group's query vector.
 *
 * `ann` goes through the partial HNSW index of the group's size: it orders by
 * `embeddingDistance` with the `embeddingDimIs` predicate, both with the literal dimension the
 * index needs. The index holds every tenant's chunks and the scope is applied to what it
 * returns, so the scan relies on `hnsw.iterative_scan`; but an iterative scan gives up after
 * `hnsw.max_scan_tuples` (20,000) tuples, and a small tenant's chunks can all lie beyond that
 * many of other tenants' (measured: 0 rows for a tenant holding 60k of 160k chunks, queried
 * with a vector near another tenant's). So when `ann` comes back short, `exact` ranks every
 * chunk in scope by brute force; its condition is a one-time filter, so it costs nothing when
 * `ann` is full, and MATERIALIZED keeps the planner from serving it with the index again.
 * A chunk can be in both halves, with the same distance. Exposed so a test can EXPLAIN it.
 *
 * @throws Error when the vector's length is not `group.dim`.
 * @example
 * const plan = await db.execute(sql`explain ${vectorSearchQuery(db, scope, group, 10)}`);
 */
export function vectorSearchQuery(
  db: TenantDb,
  scope: CandidateScope,
  group: VectorGroup,
  limit: number,
): SQL {
  const inScope = (extra?: SQL) =>
    db
      .select({
        chunkId: chunks.id,
        distance: sql<number>`${embeddingDistance(group.dim, group.vector)}`.as("distance"),
      })
      .from(chunks)
      .innerJoin(documents, liveDocumentJoin)
      .where(
        and(
          ...scopeConditions(db, { ...scope, collectionIds: group.collectionIds }),
          embeddingDimIs(group.dim),
          extra,
        ),
      );
  // Ordered by the output name, so the query vector is sent once per half; the planner still
  // matches it to the index expression.
  const ann = inScope().orderBy(sql`distance`).limit(limit);
  const exact = inScope(sql`(select count(*) from ann) < ${limit}`);
  return sql`with ann as (${ann}), exact as materialized (${exact})
    select "id", "distance" from ann
    union all
    (select "id", "distance" from exact order by "distance" limit ${limit})`;
}

/**
 * The HNSW settings a search for `limit` rows runs under, local to its transaction:
 * `hnsw.iterative_scan = relaxed_order` (without it the tenant, collection and metadata filters
 * starve the index scan and fewer than `limit` rows come back) and `hnsw.ef_search` from
 * `efSearchFor`. A caller that knows the limit before its transaction opens passes these to
 * `withTenant` (`settings`), which sends them in the opening round trip; `vectorSearch` then
 * sends nothing of its own.
 *
 * @example
 * await withTenant(client, tenantId, (db) => vectorSearch(db, scope, groups, 10), { settings: vectorSearchSettings(10) });
 */
export function vectorSearchSettings(limit: number): Record<string, string> {
  return { "hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": String(efSearchFor(limit)) };
}

/**
 * What each transaction's settings are as far as this module knows: those it was opened with,
 * then those set here (a later search in it may want another `ef_search`).
 */
const known = new WeakMap<TenantDb, Readonly<Record<string, string>>>();

/**
 * The statement that puts `vectorSearchSettings(limit)` in place in the transaction, or null
 * when they already are (sent in its opening, or by an earlier statement). The caller must send
 * it before the transaction's next vector search: they count as in place from now on. For a
 * caller that sends it together with statements of its own (`sendTogether`).
 *
 * @example
 * const settings = vectorSettingsStatement(db, 10);
 * if (settings) await db.execute(settings);
 */
export function vectorSettingsStatement(db: TenantDb, limit: number): SQL | null {
  const wanted = vectorSearchSettings(limit);
  const current = known.get(db) ?? db.settings ?? {};
  const missing = Object.entries(wanted).filter(([name, value]) => current[name] !== value);
  // Known before the statement runs: the connection runs statements in the order sent, so
  // whatever runs next in the transaction runs after it.
  known.set(db, { ...current, ...wanted });
  if (missing.length === 0) return null;
  const calls = missing.map(([name, value]) => sql`set_config(${name}, ${value}, true)`);
  return sql`select ${sql.join(calls, sql`, `)}`;
}

/** Sends `vectorSettingsStatement(db, limit)`, if the settings are not in place yet. */
async function applyVectorSearchSettings(db: TenantDb, limit: number): Promise<void> {
  const settings = vectorSettingsStatement(db, limit);
  if (settings) await db.execute(settings);
}

/** A chunk a vector search found, with its content, document and parent. */
export interface HydratedCandidate extends Candidate {
  chunk: HydratedChunk;
}

/**
 * The `limit` leaf chunks nearest to the query across all groups, best first, scored by cosine
 * similarity (`1 - distance`), under `vectorSearchSettings(limit)`. Relaxed order may hand rows
 * back slightly out of order, and groups of different models are merged, so the result is
 * sorted here. Similarities of different models are not calibrated against each other; merging
 * them by score is the best one list can do.
 *
 * @throws Error when a vector's length does not match its group's dimension.
 * @example
 * const hits = await vectorSearch(db, { collectionIds: [id] }, [{ collectionIds: [id], dim: 384, vector }], 10);
 */
export function vectorSearch(
  db: TenantDb,
  scope: CandidateScope,
  groups: readonly VectorGroup[],
  limit: number,
): Promise<Candidate[]> {
  return nearest(db, groups, limit, async (group) => {
    const { rows } = await db.execute<{ id: string; distance: number | string }>(
      vectorSearchQuery(db, scope, group, limit),
    );
    return rows.map((row) => ({ chunkId: row.id, score: 1 - Number(row.distance) }));
  });
}

/**
 * `vectorSearch` with each chunk's content, document and (with `includeParents`) parent read in
 * the same statement (`hydrateFound`): a vector-only search then needs no second round trip.
 *
 * @example
 * const hits = await hydratedVectorSearch(db, scope, groups, 10, true);
 */
export function hydratedVectorSearch(
  db: TenantDb,
  scope: CandidateScope,
  groups: readonly VectorGroup[],
  limit: number,
  includeParents: boolean,
): Promise<HydratedCandidate[]> {
  return nearest(db, groups, limit, async (group) =>
    (await hydrateFound(db, vectorSearchQuery(db, scope, group, limit), includeParents)).map(
      ({ chunk, distance }) => ({ chunkId: chunk.chunkId, score: 1 - distance, chunk }),
    ),
  );
}

/** Runs `search` for each group under the limit's settings and keeps the best `limit` found. */
async function nearest<T extends Candidate>(
  db: TenantDb,
  groups: readonly VectorGroup[],
  limit: number,
  search: (group: VectorGroup) => Promise<T[]>,
): Promise<T[]> {
  if (groups.length === 0) return [];
  await applyVectorSearchSettings(db, limit);
  // A chunk can be found twice (both halves of the statement), with the same distance.
  const best = new Map<string, T>();
  for (const group of groups) for (const found of await search(group)) best.set(found.chunkId, found);
  return [...best.values()].sort((a, b) => b.score - a.score).slice(0, limit);
}
