import { z } from "zod";
import { embeddingSettings } from "../../../../workers/rag/embed/provider";
import { SEARCH_MODES } from "../../../../workers/rag/search/search";
import { retrieve } from "../../../../workers/routes/rag-search/retrieve";
import { MAX_SEARCH_COLLECTIONS } from "../../../../workers/routes/rag-search/schemas";
import { defineTool } from "../../../server/types";
import { asToolErrors, requirePermission } from "../access";

export const searchKnowledgeBase = defineTool({
  name: "search_knowledge_base",
  title: "Search knowledge bases",
  description:
    "Searches knowledge-base collections (ids from list_collections) and returns the best-matching " +
    "passages with their document, position and score, as POST /v1/rag/search does (hybrid vector and " +
    "full-text search by default).",
  input: z.strictObject({
    query: z.string().trim().min(1).max(2000).describe("What to look for, in natural language."),
    collectionIds: z.array(z.string().uuid()).min(1).max(MAX_SEARCH_COLLECTIONS),
    topK: z.number().int().min(1).max(20).default(5),
    mode: z.enum(SEARCH_MODES).default("hybrid"),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  async run(input, { db, principal, config, env }) {
    requirePermission(principal, "rag:read");
    const { hits } = await asToolErrors(() =>
      retrieve(embeddingSettings(config, env), db, { ...input, includeParents: false }),
    );
    return {
      results: hits.map((hit) => ({
        chunkId: hit.chunkId,
        documentId: hit.documentId,
        collectionId: hit.collectionId,
        title: hit.document.title,
        source: hit.document.source,
        page: hit.page,
        startOffset: hit.startOffset,
        endOffset: hit.endOffset,
        score: hit.score,
        content: hit.content,
      })),
    };
  },
});
