import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { type ConnectionConfig, connect } from "../../../db/client";
import { documents } from "../../../db/schema/rag";
import { parseConfig } from "../../env";
import { toHex } from "../../lib/bytes";
import { newId } from "../../lib/ids";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { embeddingSettings } from "../embed/provider";
import { SharedConnections } from "./connections";
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

/** What the consumer passes `ingestDocument`, and a way to close its connections. */
export type TestIngestDeps = IngestDeps & { close(): Promise<void> };

/**
 * Test-only: what the consumer passes `ingestDocument`, on one shared connection of the
 * caller's own, opened on first use (close it with `deps.close()`).
 */
export async function ingestDeps(overrides: Partial<IngestDeps> = {}): Promise<TestIngestDeps> {
  const config = parseConfig(env);
  const connections = new SharedConnections(() => connect(config));
  return {
    connections,
    bucket: env.DOCUMENTS,
    embedding: embeddingSettings(config, env),
    maxAttempts: config.RAG_MAX_ATTEMPTS,
    ...overrides,
    close: () => connections.close(),
  };
}

/** The table owner, to backdate rows as time would. */
export const ownerConnection: ConnectionConfig = {
  DATABASE_URL: inject("ownerDatabaseUrl"),
  NEON_WS_PROXY: (env as unknown as { NEON_WS_PROXY?: string }).NEON_WS_PROXY,
};
