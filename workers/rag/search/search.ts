import type { SQL } from "drizzle-orm";
import type { TenantDb } from "../../../db/tenant";
import type { Collection } from "../../../db/types";
import {
  EMBEDDING_PROVIDERS,
  type EmbeddingChoice,
  EmbeddingError,
  type EmbeddingProvider,
  type EmbeddingProviderName,
} from "../embed/types";
import type { Candidate } from "./candidates";
import type { SearchFilter } from "./filters";
import { fulltextSearch } from "./fulltext-search";
import { reciprocalRankFusion } from "./fuse";
import { type HydratedChunk, hydrateChunks } from "./hydrate";
import {
  type HydratedCandidate,
  hydratedVectorSearch,
  type VectorGroup,
  vectorSearch,
  vectorSearchSettings,
  vectorSettingsStatement,
} from "./vector-search";

export const SEARCH_MODES = ["vector", "fulltext", "hybrid"] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export const DEFAULT_TOP_K = 10;
export const MAX_TOP_K = 50;

/**
 * Candidates each method hands to fusion in hybrid mode: a deep enough pool that a chunk ranked
 * low by one method but high by the other still reaches the top.
 *
 * @example
 * hybridCandidates(5); // 40
 * hybridCandidates(50); // 200
 */
export function hybridCandidates(topK: number): number {
  return Math.max(4 * topK, 40);
}

/** How many candidates each method fetches: `topK`, or in hybrid mode the pool fusion draws from. */
function candidatesPerMethod(mode: SearchMode, topK: number): number {
  return mode === "hybrid" ? hybridCandidates(topK) : topK;
}

type SearchShape = Pick<SearchRequest, "mode" | "topK">;

/** The rows the vector search of `request` asks for; null when it runs none (full text only). */
function vectorLimit(request: SearchShape): number | null {
  const mode = request.mode ?? "hybrid";
  return mode === "fulltext" ? null : candidatesPerMethod(mode, request.topK ?? DEFAULT_TOP_K);
}

/**
 * The settings, local to its transaction, that `searchChunks` runs `request` under (none for
 * full-text search). A caller that opens the transaction for the search passes them to
 * `withTenant` (`settings`), which sends them in its opening round trip instead of the search
 * sending them as a statement of its own.
 *
 * @example
 * await withTenant(client, tenantId, (db) => searchChunks(db, providerFor, request), { settings: searchSettings(request) });
 */
export function searchSettings(request: SearchShape): Record<string, string> {
  const limit = vectorLimit(request);
  return limit === null ? {} : vectorSearchSettings(limit);
}

/**
 * The statement that puts in place the settings `searchChunks` will run `request` under, or
 * null when there are none to send (full-text search, or already in place). For a caller that
 * sends it together with statements of its own, such as the lookup of the collections, so it
 * costs no round trip of its own; it must be sent before the search.
 *
 * @example
 * const settings = searchSettingsStatement(db, request);
 * const [, rows] = await sendTogether(db, [settings, collectionsQuery]);
 */
export function searchSettingsStatement(db: TenantDb, request: SearchShape): SQL | null {
  const limit = vectorLimit(request);
  return limit === null ? null : vectorSettingsStatement(db, limit);
}

/** The fields of a collection a search needs: which model embedded it. */
export type SearchCollection = Pick<
  Collection,
  "id" | "embeddingProvider" | "embeddingModel" | "embeddingDim"
>;

/** Builds the embedding provider for a collection's model; may throw EmbeddingError (not configured). */
export type ProviderFor = (choice: EmbeddingChoice) => EmbeddingProvider;

export interface SearchRequest {
  /** Collections of the tenant to search, already checked to exist. */
  collections: readonly SearchCollection[];
  query: string;
  /** @default "hybrid" */
  mode?: SearchMode;
  /** 1..MAX_TOP_K. @default DEFAULT_TOP_K */
  topK?: number;
  /**
   * Drops hits scoring below it, on the mode's own scale: cosine similarity (-1..1) for
   * `vector`, normalised `ts_rank_cd` ([0, 1)) for `fulltext`, the fused RRF score for `hybrid`
   * (at most 2/61, about 0.033, for a chunk ranked first by both methods).
   */
  minScore?: number | undefined;
  filter?: SearchFilter | undefined;
  /** @default true */
  includeParents?: boolean;
}

export interface SearchHit extends HydratedChunk {
  /** The mode's score: see `SearchRequest.minScore`. */
  score: number;
  /** 1-based position in the result. */
  rank: number;
  /** Each method's own score; null when it did not run or did not find the chunk. */
  scores: { vector: number | null; fulltext: number | null };
}

export interface SearchResult {
  hits: SearchHit[];
  /** Tokens spent embedding the query (0 for full-text search). */
  embeddingTokens: number;
  /** Those tokens per embedding call, one for each distinct model of the collections (none for full-text search). */
  embeddings: QueryEmbedding[];
}

export interface QueryEmbedding {
  model: string;
  tokens: number;
}

/**
 * Searches leaf chunks of `collections` for `query` by vector similarity, full text, or both
 * fused with reciprocal rank fusion, and returns the best `topK` with their documents and
 * (unless `includeParents` is false) their parent passages. Runs in the caller's tenant
 * transaction; every query also names the tenant explicitly. The query is embedded once per
 * distinct model among the collections.
 *
 * @throws EmbeddingError when a collection's provider is unknown or not configured, or the
 *   vendor fails (`retryable` tells which); Error when topK is outside 1..MAX_TOP_K.
 * @example
 * const { hits } = await searchChunks(db, (choice) => embeddingProvider(choice, settings), {
 *   collections: [collection],
 *   query: "how do I rotate an API key?",
 *   topK: 5,
 * });
 */
export async function searchChunks(
  db: TenantDb,
  providerFor: ProviderFor,
  request: SearchRequest,
): Promise<SearchResult> {
  const mode = request.mode ?? "hybrid";
  const topK = request.topK ?? DEFAULT_TOP_K;
  if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) {
    throw new Error(`topK must be an integer in 1..${MAX_TOP_K}`);
  }
  if (request.collections.length === 0) return { hits: [], embeddingTokens: 0, embeddings: [] };
  const scope = { collectionIds: request.collections.map((c) => c.id), filter: request.filter };
  const limit = candidatesPerMethod(mode, topK);

  const includeParents = request.includeParents ?? true;
  const runVector = async () => {
    const { groups, embeddings } = await embedQuery(providerFor, request.collections, request.query);
    // Vector alone needs nothing else, so its statement also reads the chunks' content.
    const found: (Candidate | HydratedCandidate)[] =
      mode === "vector"
        ? await hydratedVectorSearch(db, scope, groups, limit, includeParents)
        : await vectorSearch(db, scope, groups, limit);
    return { found, embeddings };
  };
  const [vector, fulltext] = await Promise.all([
    mode === "fulltext" ? undefined : runVector(),
    mode === "vector" ? undefined : fulltextSearch(db, scope, request.query, limit),
  ]);

  const ranked = rank(mode, vector?.found ?? [], fulltext ?? [])
    .filter((r) => request.minScore === undefined || r.score >= request.minScore)
    .slice(0, topK);
  const details =
    mode === "vector"
      ? new Map(vector?.found.flatMap((f) => ("chunk" in f ? [[f.chunkId, f.chunk] as const] : [])))
      : await hydrateChunks(
          db,
          ranked.map((r) => r.chunkId),
          includeParents,
        );
  const hits: SearchHit[] = [];
  for (const r of ranked) {
    const chunk = details.get(r.chunkId);
    if (chunk) hits.push({ ...chunk, score: r.score, rank: hits.length + 1, scores: r.scores });
  }
  const embeddings = vector?.embeddings ?? [];
  return { hits, embeddingTokens: embeddings.reduce((sum, e) => sum + e.tokens, 0), embeddings };
}

interface Ranked {
  chunkId: string;
  score: number;
  scores: SearchHit["scores"];
}

function rank(mode: SearchMode, vector: Candidate[], fulltext: Candidate[]): Ranked[] {
  if (mode === "vector") {
    return vector.map((c) => ({
      chunkId: c.chunkId,
      score: c.score,
      scores: { vector: c.score, fulltext: null },
    }));
  }
  if (mode === "fulltext") {
    return fulltext.map((c) => ({
      chunkId: c.chunkId,
      score: c.score,
      scores: { vector: null, fulltext: c.score },
    }));
  }
  const vectorScores = new Map(vector.map((c) => [c.chunkId, c.score]));
  const fulltextScores = new Map(fulltext.map((c) => [c.chunkId, c.score]));
  return reciprocalRankFusion([vector.map((c) => c.chunkId), fulltext.map((c) => c.chunkId)]).map((f) => ({
    chunkId: f.id,
    score: f.score,
    scores: { vector: vectorScores.get(f.id) ?? null, fulltext: fulltextScores.get(f.id) ?? null },
  }));
}

/**
 * The query's vector for each distinct model among the collections, with the collections
 * embedded by it.
 */
async function embedQuery(
  providerFor: ProviderFor,
  collections: readonly SearchCollection[],
  query: string,
): Promise<{ groups: VectorGroup[]; embeddings: QueryEmbedding[] }> {
  const byModel = new Map<string, { choice: EmbeddingChoice; collectionIds: string[] }>();
  for (const c of collections) {
    const choice = { provider: providerName(c), model: c.embeddingModel, dim: c.embeddingDim };
    const key = JSON.stringify([choice.provider, choice.model, choice.dim]);
    const entry = byModel.get(key) ?? { choice, collectionIds: [] };
    entry.collectionIds.push(c.id);
    byModel.set(key, entry);
  }
  const embedded = await Promise.all(
    [...byModel.values()].map(async ({ choice, collectionIds }) => {
      const { vectors, tokens } = await providerFor(choice).embed([query], "query");
      const vector = vectors[0];
      if (vector?.length !== choice.dim) {
        throw new EmbeddingError(
          `${choice.provider} model ${choice.model} returned ${vector?.length ?? 0} dimensions, the collection expects ${choice.dim}`,
          false,
        );
      }
      return {
        group: { collectionIds, dim: choice.dim, vector },
        embedding: { model: choice.model, tokens },
      };
    }),
  );
  return {
    groups: embedded.map((e) => e.group),
    embeddings: embedded.map((e) => e.embedding),
  };
}

function providerName(collection: SearchCollection): EmbeddingProviderName {
  const name = collection.embeddingProvider;
  if (!(EMBEDDING_PROVIDERS as readonly string[]).includes(name)) {
    throw new EmbeddingError(`collection ${collection.id} uses unknown embedding provider "${name}"`, false);
  }
  return name as EmbeddingProviderName;
}
