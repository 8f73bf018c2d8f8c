import type Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import { cachedCollections } from "../../cache/collections";
import { telemetryFor } from "../../observability/telemetry";
import { embeddingProvider, embeddingSettings } from "../../rag/embed/provider";
import { type SearchHit, searchChunks } from "../../rag/search/search";
import type { RunTool } from "../run/spec";
import type { ToolOutcome } from "./registry";
import type { RunnableTool, RunToolHost } from "./run-tools";

/** Collections one knowledge-base tool may search, as the agent definition names them. */
export const MAX_TOOL_COLLECTIONS = 10;

/** A `knowledge_base` tool's `config`, checked when the agent is saved. */
export const knowledgeBaseConfig = z
  .object({
    collectionIds: z.array(z.string().uuid()).min(1).max(MAX_TOOL_COLLECTIONS),
    topK: z.number().int().min(1).max(20).default(5),
    mode: z.enum(["vector", "fulltext", "hybrid"]).default("hybrid"),
  })
  .strict();

const input = z.object({ query: z.string().trim().min(1).max(2000) }).strict();

/**
 * An agent's knowledge-base tool: the model sends a query, the tool searches the configured
 * collections (hybrid by default) and answers with one `search_result` block per chunk, citations
 * enabled, so the model's reply cites them (`search_result_location`, whose `source` is
 * `meridian://chunks/<chunkId>`) and the citations are stored with the run's messages. The
 * recorded tool output lists the same hits as JSON. Collections deleted since the agent was saved
 * are skipped; other tenants' ids find nothing (the search runs in the run's tenant).
 *
 * @returns null when the entry's config is invalid (the agent routes refuse such a save).
 */
export function knowledgeBaseTool(entry: RunTool, host: RunToolHost): RunnableTool | null {
  const config = knowledgeBaseConfig.safeParse(entry.config ?? {});
  if (!config.success) return null;
  const { collectionIds, topK, mode } = config.data;
  return {
    kind: "knowledge",
    definition: {
      name: entry.name,
      description:
        entry.description ??
        "Searches the knowledge base and returns the passages that best match the query, to answer from and cite.",
      input_schema: {
        type: "object",
        properties: { query: { type: "string", description: "What to look for, in natural language." } },
        required: ["query"],
      },
    },
    requiresApproval: entry.requiresApproval,
    async call(raw, opts): Promise<ToolOutcome> {
      const started = Date.now();
      const parsed = input.safeParse(raw);
      if (!parsed.success) {
        const content = JSON.stringify({ error: "give a non-empty `query` string" });
        return { status: "failed", content, truncated: false, durationMs: Date.now() - started };
      }
      const settings = embeddingSettings(host.config, host.env);
      try {
        const { hits, embeddings } = await host.inTenant(async (db) => {
          const found = await cachedCollections(
            { config: host.config, telemetry: host.telemetry ?? telemetryFor(host.config) },
            db,
            collectionIds,
          );
          const searched = [...new Set(collectionIds.map((id) => id.toLowerCase()))].flatMap(
            (id) => found.get(id) ?? [],
          );
          const result = await searchChunks(db, (choice) => embeddingProvider(choice, settings), {
            collections: searched,
            query: parsed.data.query,
            mode,
            topK,
          });
          return result;
        });
        return { ...withinLimit(hits, opts.maxOutputBytes, Date.now() - started), embeddings };
      } catch (error) {
        const content = JSON.stringify({ error: error instanceof Error ? error.message : String(error) });
        return { status: "failed", content, truncated: false, durationMs: Date.now() - started };
      }
    },
  };
}

/** The hits as citable blocks and as JSON, dropping the lowest-ranked until they fit the run's output limit. */
function withinLimit(hits: SearchHit[], maxBytes: number, durationMs: number): ToolOutcome {
  let kept = hits;
  for (;;) {
    const content = JSON.stringify({
      results: kept.map((hit) => ({
        chunkId: hit.chunkId,
        documentId: hit.documentId,
        title: hit.document.title,
        source: hit.document.source,
        page: hit.page,
        score: hit.score,
        content: hit.content,
      })),
    });
    if (new TextEncoder().encode(content).byteLength <= maxBytes || kept.length === 0) {
      return {
        status: "succeeded",
        content,
        blocks: kept.map(searchResultBlock),
        truncated: kept.length < hits.length,
        durationMs,
      };
    }
    kept = kept.slice(0, -1);
  }
}

function searchResultBlock(hit: SearchHit): Anthropic.SearchResultBlockParam {
  return {
    type: "search_result",
    source: `meridian://chunks/${hit.chunkId}`,
    title: hit.document.title ?? hit.document.source ?? `Document ${hit.documentId}`,
    content: [{ type: "text", text: hit.content }],
    citations: { enabled: true },
  };
}
