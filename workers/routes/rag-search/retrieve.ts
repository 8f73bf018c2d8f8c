import { and, eq, inArray, isNull, type SQL } from "drizzle-orm";
import { collections } from "../../../db/schema/rag";
import { sendTogether, type TenantDb } from "../../../db/tenant";
import type { CacheDeps } from "../../cache/cache";
import { cachedCollections } from "../../cache/collections";
import { ApiError } from "../../lib/errors";
import { type EmbeddingSettings, embeddingProvider } from "../../rag/embed/provider";
import { EmbeddingError } from "../../rag/embed/types";
import {
  type SearchCollection,
  type SearchResult,
  searchChunks,
  searchSettingsStatement,
} from "../../rag/search/search";
import type { RagSearchRequest } from "./schemas";

/** What a retrieval needs from a search or answer request. */
export type RetrieveInput = Pick<
  RagSearchRequest,
  "query" | "collectionIds" | "mode" | "topK" | "minScore" | "filter" | "includeParents"
>;

/**
 * The retrieval behind `POST /v1/rag/search` and `POST /v1/rag/query`: checks the collections,
 * embeds the query with each collection's configured vendor and runs `searchChunks` in `db`.
 * `collectionIds` are the searched collections, duplicates removed, in request order.
 *
 * @throws ApiError NOT_FOUND for a collection that is missing, deleted or another tenant's (one
 *   answer for all three, so ids of other tenants cannot be probed); UNPROCESSABLE when a
 *   collection's embedding vendor is not configured, unknown or refuses the request; UNAVAILABLE
 *   when the vendor fails in a way that may pass (rate limit, 5xx, network).
 * @example
 * const { hits } = await retrieve(settings, c.get("db"), c.req.valid("json"), cacheDeps(c));
 */
export async function retrieve(
  settings: EmbeddingSettings,
  db: TenantDb,
  input: RetrieveInput,
  /** The request's cache (see workers/cache): a full-text search reads the collections through it. */
  cache?: CacheDeps,
): Promise<SearchResult & { collectionIds: string[] }> {
  const searched = await loadCollections(cache, db, input);
  try {
    const result = await searchChunks(db, (choice) => embeddingProvider(choice, settings), {
      collections: searched,
      query: input.query,
      mode: input.mode,
      topK: input.topK,
      minScore: input.minScore,
      filter: input.filter,
      includeParents: input.includeParents,
    });
    return { ...result, collectionIds: searched.map((s) => s.id) };
  } catch (error) {
    throw error instanceof EmbeddingError ? embeddingProblem(error) : error;
  }
}

/**
 * The searched collections, in request order. A search that needs settings (any but full text)
 * reads them from the database in the round trip that sends the settings, which it pays anyway,
 * instead of from the cache, which would add a hop; a full-text search reads them through the
 * cache.
 *
 * @throws ApiError NOT_FOUND
 */
async function loadCollections(
  cache: CacheDeps | undefined,
  db: TenantDb,
  input: RetrieveInput,
): Promise<SearchCollection[]> {
  const wanted = [...new Set(input.collectionIds.map((id) => id.toLowerCase()))];
  const settings = searchSettingsStatement(db, input);
  const byId = settings
    ? await liveCollections(db, wanted, settings)
    : cache
      ? await cachedCollections(cache, db, wanted)
      : await liveCollections(db, wanted);
  return wanted.map((id) => {
    const row = byId.get(id);
    if (!row) throw new ApiError("NOT_FOUND", { detail: `collection ${id} not found` });
    return {
      id: row.id,
      embeddingProvider: row.embeddingProvider,
      embeddingModel: row.embeddingModel,
      embeddingDim: row.embeddingDim,
    };
  });
}

/** The live collections among `ids`, read after `before` in the same round trip when given. */
async function liveCollections(
  db: TenantDb,
  ids: string[],
  before?: SQL,
): Promise<Map<string, SearchCollection>> {
  const query = db
    .select({
      id: collections.id,
      embeddingProvider: collections.embeddingProvider,
      embeddingModel: collections.embeddingModel,
      embeddingDim: collections.embeddingDim,
    })
    .from(collections)
    .where(
      and(eq(collections.tenantId, db.tenantId), inArray(collections.id, ids), isNull(collections.deletedAt)),
    );
  const rows: SearchCollection[] = before
    ? ((await sendTogether(db, [before, query]))[1] ?? []).map((row) => ({
        id: String(row.id),
        embeddingProvider: String(row.embedding_provider),
        embeddingModel: String(row.embedding_model),
        embeddingDim: Number(row.embedding_dim) as SearchCollection["embeddingDim"],
      }))
    : await query;
  return new Map(rows.map((row) => [row.id, row]));
}

function embeddingProblem(error: EmbeddingError): ApiError {
  return error.retryable
    ? new ApiError("UNAVAILABLE", { detail: `The embedding service failed: ${error.message}`, cause: error })
    : new ApiError("UNPROCESSABLE", {
        detail: `The query cannot be embedded for a searched collection: ${error.message}`,
        cause: error,
      });
}
