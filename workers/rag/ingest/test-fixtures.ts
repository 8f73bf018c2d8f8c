import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { type ConnectionConfig, connect } from "../../../db/client";
import { documents } from "../../../db/schema/rag";
import { parseConfig } from "../../env";
import { toHex } from "../../lib/bytes";
import { newId } from "../../lib/ids";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { embeddingSettings } from "../embed/provider";
import type { IngestDeps } from "./ingest-document";
import type { IngestJob } from "./job";
import { originalKey } from "./storage";

/**
 * Test-only: a queued document inserted and stored the way an upload stores it, but with no
 * queue message, so a test drives `ingestDocument` itself.
 */
export async function queuedDocument(
  tenantId: string,
  collectionId: string,
  content: string | Uint8Array,
  mimeType = "text/plain",
): Promise<IngestJob> {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const id = newId();
  const storageKey = originalKey(tenantId, id);
  await env.DOCUMENTS.put(storageKey, bytes);
  await withTenantDb(tenantId, (db) =>
    db.insert(documents).values({
      id,
      tenantId,
      collectionId,
      mimeType,
      contentHash: toHex(crypto.getRandomValues(new Uint8Array(32))),
      sizeBytes: bytes.byteLength,
      storageKey,
      stageTimes: { queued: new Date().toISOString() },
    }),
  );
  return { tenantId, documentId: id, generation: 1 };
}

/**
 * Test-only: what the consumer passes `ingestDocument`, on a connection of the caller's own
 * (end it with `deps.client.end()`).
 */
export async function ingestDeps(overrides: Partial<IngestDeps> = {}): Promise<IngestDeps> {
  const config = parseConfig(env);
  return {
    client: await connect(config),
    bucket: env.DOCUMENTS,
    embedding: embeddingSettings(config, env),
    maxAttempts: config.RAG_MAX_ATTEMPTS,
    ...overrides,
  };
}

/** The table owner, to backdate rows as time would. */
export const ownerConnection: ConnectionConfig = {
  DATABASE_URL: inject("ownerDatabaseUrl"),
  NEON_WS_PROXY: (env as unknown as { NEON_WS_PROXY?: string }).NEON_WS_PROXY,
};
