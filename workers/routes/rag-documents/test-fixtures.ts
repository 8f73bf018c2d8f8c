import { expect } from "vitest";
import { api } from "../../../test/harness/api";
import type { ListCollectionsResponse } from "../collections/list-collections";
import type { AcceptedDocumentResponse } from "./create-document";
import type { documentWithContentSchema } from "./schemas";

export type DocumentResponse = import("zod").infer<typeof documentWithContentSchema>;
type Collection = ListCollectionsResponse["data"][number];

/** A collection of the caller's tenant (offline embeddings unless `embedding` says otherwise). */
export async function createCollection(
  token: string,
  body: Record<string, unknown> = {},
): Promise<Collection> {
  const res = await api.post<Collection>("/v1/rag/collections", {
    token,
    body: { name: `kb-${crypto.randomUUID().slice(0, 8)}`, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Uploads a text document as JSON and expects it queued. */
export async function uploadText(
  token: string,
  collectionId: string,
  content: string,
  extra: Record<string, unknown> = {},
): Promise<AcceptedDocumentResponse> {
  const res = await api.post<AcceptedDocumentResponse>("/v1/rag/documents", {
    token,
    body: { collectionId, content, ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

/**
 * Polls a document until its ingestion settles (indexed or failed) through the real queue.
 * The queue delivers in batches of up to a second, so a few seconds is the usual wait.
 */
export async function settled(token: string, id: string, timeoutMs = 15_000): Promise<DocumentResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get<DocumentResponse>(`/v1/rag/documents/${id}?include=content`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (res.body.status === "indexed" || res.body.status === "failed") return res.body;
    if (Date.now() > deadline)
      throw new Error(`document ${id} still ${res.body.status} (${res.body.statusReason})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
