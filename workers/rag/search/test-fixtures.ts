import { eq } from "drizzle-orm";
import { chunks, collections, documents, type EmbeddingDim } from "../../../db/schema/rag";
import type { TenantDb } from "../../../db/tenant";
import type { Collection, NewChunk } from "../../../db/types";
import { newId } from "../../lib/ids";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { LOCAL_EMBEDDING_MODEL, localEmbeddings } from "../embed/local";
import type { ProviderFor } from "./search";

/**
 * Test-only: a collection embedded by the offline model, inserted directly (no route involved).
 *
 * @example
 * const collection = await seedCollection(tenant.id, { name: "handbook" });
 */
export function seedCollection(
  tenantId: string,
  opts: { name?: string; dim?: EmbeddingDim; provider?: string; model?: string } = {},
): Promise<Collection> {
  return withTenantDb(tenantId, async (db) => {
    const [row] = await db
      .insert(collections)
      .values({
        tenantId,
        name: opts.name ?? `kb-${crypto.randomUUID().slice(0, 8)}`,
        embeddingProvider: opts.provider ?? "local",
        embeddingModel: opts.model ?? LOCAL_EMBEDDING_MODEL,
        embeddingDim: opts.dim ?? 384,
      })
      .returning();
    if (!row) throw new Error("collection insert returned no row");
    return row;
  });
}

export interface SeedLeaf {
  content: string;
  page?: number;
}

export interface SeedDocument {
  title?: string;
  metadata?: Record<string, unknown>;
  /** Leaves, each embedded with the collection's offline model. */
  leaves: SeedLeaf[];
  /** When set, one parent chunk holding this text encloses every leaf. */
  parent?: string;
}

export interface SeededDocument {
  documentId: string;
  /** Leaf chunk ids, in `leaves` order. */
  leafIds: string[];
  parentId: string | null;
}

/**
 * Test-only: documents with their chunks, as ingestion would leave them (status `indexed`, the
 * document's metadata copied onto each chunk, leaves embedded by `localEmbeddings(dim)`), in one
 * transaction.
 *
 * @example
 * const [doc] = await seedDocuments(tenant.id, collection, [{ leaves: [{ content: "..." }] }]);
 */
export function seedDocuments(
  tenantId: string,
  collection: Pick<Collection, "id" | "embeddingDim" | "embeddingModel">,
  docs: SeedDocument[],
): Promise<SeededDocument[]> {
  return withTenantDb(tenantId, (db) => insertDocuments(db, collection, docs));
}

async function insertDocuments(
  db: TenantDb,
  collection: Pick<Collection, "id" | "embeddingDim" | "embeddingModel">,
  docs: SeedDocument[],
): Promise<SeededDocument[]> {
  const provider = localEmbeddings(collection.embeddingDim, collection.embeddingModel);
  const docRows = await db
    .insert(documents)
    .values(
      docs.map((doc, i) => ({
        tenantId: db.tenantId,
        collectionId: collection.id,
        title: doc.title ?? `Document ${i + 1}`,
        source: `seed://${i + 1}`,
        mimeType: "text/plain",
        contentHash: crypto.randomUUID().replaceAll("-", ""),
        content: [doc.parent ?? "", ...doc.leaves.map((l) => l.content)].join("\n"),
        status: "indexed" as const,
        metadata: doc.metadata ?? {},
      })),
    )
    .returning({ id: documents.id });
  const texts = docs.flatMap((doc) => doc.leaves.map((l) => l.content));
  const vectors: number[][] = [];
  for (let i = 0; i < texts.length; i += provider.maxBatch) {
    vectors.push(...(await provider.embed(texts.slice(i, i + provider.maxBatch), "document")).vectors);
  }

  const seeded: SeededDocument[] = [];
  const leafRows: NewChunk[] = [];
  let v = 0;
  for (const [i, doc] of docs.entries()) {
    const documentId = docRows[i]?.id;
    if (!documentId) throw new Error("document insert returned too few rows");
    const metadata = doc.metadata ?? {};
    let parentId: string | null = null;
    if (doc.parent !== undefined) {
      const [parent] = await db
        .insert(chunks)
        .values({
          tenantId: db.tenantId,
          documentId,
          collectionId: collection.id,
          role: "parent",
          ordinal: 0,
          content: doc.parent,
          startOffset: 0,
          endOffset: doc.parent.length,
          metadata,
        })
        .returning({ id: chunks.id });
      parentId = parent?.id ?? null;
    }
    const leafIds: string[] = [];
    for (const [j, leaf] of doc.leaves.entries()) {
      const id = newId();
      leafIds.push(id);
      leafRows.push({
        id,
        tenantId: db.tenantId,
        documentId,
        collectionId: collection.id,
        parentId,
        role: "leaf",
        ordinal: j + 1,
        content: leaf.content,
        startOffset: j * 100,
        endOffset: j * 100 + leaf.content.length,
        page: leaf.page ?? null,
        embedding: vectors[v++],
        embeddingModel: collection.embeddingModel,
        embeddingDim: collection.embeddingDim,
        metadata,
      });
    }
    seeded.push({ documentId, leafIds, parentId });
  }
  // Batches keep one statement's parameters well under PostgreSQL's 65,535.
  for (let i = 0; i < leafRows.length; i += 200) await db.insert(chunks).values(leafRows.slice(i, i + 200));
  return seeded;
}

/**
 * Test-only: soft-deletes a document, as `DELETE /v1/rag/documents/{id}` would.
 *
 * @example
 * await softDeleteDocument(tenant.id, doc.documentId);
 */
export function softDeleteDocument(tenantId: string, documentId: string): Promise<void> {
  return withTenantDb(tenantId, async (db) => {
    await db.update(documents).set({ deletedAt: new Date() }).where(eq(documents.id, documentId));
  });
}

/**
 * Test-only: a `ProviderFor` that builds the offline model for whatever a collection names and
 * records the embedding calls it serves (`model/dim:purpose`).
 *
 * @example
 * const providers = offlineProviders();
 * await searchChunks(db, providers, { collections, query: "..." });
 * expect(providers.calls).toEqual(["meridian-hashed-ngrams-v1/384:query"]);
 */
export function offlineProviders(): ProviderFor & { calls: string[] } {
  const calls: string[] = [];
  const providerFor = (choice: Parameters<ProviderFor>[0]) => {
    const inner = localEmbeddings(choice.dim, choice.model);
    return {
      ...inner,
      async embed(texts: string[], purpose: "document" | "query") {
        calls.push(`${choice.model}/${choice.dim}:${purpose}`);
        return inner.embed(texts, purpose);
      },
    };
  };
  return Object.assign(providerFor, { calls });
}
