import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { originalKey } from "../../rag/ingest/storage";
import type { ListCollectionsResponse } from "./list-collections";
import type { collectionWithStatsSchema } from "./schemas";

type Collection = ListCollectionsResponse["data"][number];
type CollectionWithStats = import("zod").infer<typeof collectionWithStatsSchema>;

async function create(token: string, body: Record<string, unknown>) {
  return api.post<Collection & ProblemBody>("/v1/rag/collections", { token, body });
}

describe("knowledge-base collections", () => {
  it("creates with the offline model and default chunking, lists, gets with stats, updates and deletes", async () => {
    const { token } = await createTenant();
    const created = await create(token, { name: "handbook", metadata: { team: "support" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get("location")).toBe(`/v1/rag/collections/${created.body.id}`);
    expect(created.body.embedding).toEqual({
      provider: "local",
      model: "meridian-hashed-ngrams-v1",
      dimensions: 384,
    });
    expect(created.body.chunking.chunkTokens).toBeGreaterThan(0);
    expect(created.body.metadata).toEqual({ team: "support" });

    const list = await api.get<ListCollectionsResponse>("/v1/rag/collections", { token });
    expect(list.body.data.map((c) => c.id)).toEqual([created.body.id]);

    const got = await api.get<CollectionWithStats>(`/v1/rag/collections/${created.body.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body.stats).toEqual({
      documents: { queued: 0, parsing: 0, chunking: 0, embedding: 0, indexed: 0, failed: 0 },
      chunks: 0,
    });

    const updated = await api.patch<Collection>(`/v1/rag/collections/${created.body.id}`, {
      token,
      body: {
        name: "handbook-2026",
        description: "Support answers",
        chunking: { chunkTokens: 200, overlapTokens: 20, parentTokens: null },
        embedding: { provider: "openai", model: "text-embedding-3-small" },
      },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.name).toBe("handbook-2026");
    expect(updated.body.chunking).toEqual({ chunkTokens: 200, overlapTokens: 20, parentTokens: null });
    // No documents yet: the model may still change.
    expect(updated.body.embedding).toEqual({
      provider: "openai",
      model: "text-embedding-3-small",
      dimensions: 1536,
    });

    expect((await api.delete(`/v1/rag/collections/${created.body.id}`, { token })).status).toBe(204);
    expect((await api.get(`/v1/rag/collections/${created.body.id}`, { token })).status).toBe(404);
    // The name is free again.
    expect((await create(token, { name: "handbook-2026" })).status).toBe(201);
  });

  it("refuses a taken name, an unindexed size, and a custom model without its size", async () => {
    const { token } = await createTenant();
    expect((await create(token, { name: "kb" })).status).toBe(201);
    const taken = await create(token, { name: "kb" });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe("CONFLICT");

    const size = await create(token, { name: "odd", embedding: { provider: "local", dimensions: 500 } });
    expect(size.status).toBe(400);
    expect(size.body.errors?.[0]?.path).toBe("embedding.dimensions");

    const custom = await create(token, {
      name: "custom",
      embedding: { provider: "voyage", model: "voyage-law-2" },
    });
    expect(custom.status).toBe(400);
    expect(custom.body.errors?.[0]?.path).toBe("embedding.dimensions");

    const chunking = await create(token, { name: "bad", chunking: { chunkTokens: 100, overlapTokens: 100 } });
    expect(chunking.status).toBe(400);

    const other = await create(token, { name: "kb2" });
    const rename = await api.patch<ProblemBody>(`/v1/rag/collections/${other.body.id}`, {
      token,
      body: { name: "kb" },
    });
    expect(rename.status).toBe(409);
  });

  it("fixes the embedding model once the collection holds a document", async () => {
    const { token, tenant } = await createTenant();
    const collection = await create(token, { name: "fixed" });
    const upload = await api.post("/v1/rag/documents", {
      token,
      body: { collectionId: collection.body.id, content: "Vectors are stored per chunk." },
    });
    expect(upload.status, JSON.stringify(upload.body)).toBe(202);
    const documentId = (upload.body as { id: string }).id;
    const change = await api.patch<ProblemBody>(`/v1/rag/collections/${collection.body.id}`, {
      token,
      body: { embedding: { provider: "local", dimensions: 768 } },
    });
    expect(change.status).toBe(409);
    // The same model restated, and other fields, are still fine.
    const same = await api.patch(`/v1/rag/collections/${collection.body.id}`, {
      token,
      body: { embedding: { provider: "local" }, description: "ok" },
    });
    expect(same.status).toBe(200);

    // Deleting the collection takes its documents, and their originals, with it.
    expect((await api.delete(`/v1/rag/collections/${collection.body.id}`, { token })).status).toBe(204);
    expect((await api.get(`/v1/rag/documents/${documentId}`, { token })).status).toBe(404);
    expect(await env.DOCUMENTS.get(originalKey(tenant.id, documentId))).toBeNull();
  });

  it("is a wall between tenants: same names allowed, foreign ids are 404", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const mine = await create(a.token, { name: "shared-name" });
    const theirs = await create(b.token, { name: "shared-name" });
    expect(theirs.status).toBe(201);
    for (const res of [
      await api.get(`/v1/rag/collections/${mine.body.id}`, { token: b.token }),
      await api.patch(`/v1/rag/collections/${mine.body.id}`, { token: b.token, body: { description: "x" } }),
      await api.delete(`/v1/rag/collections/${mine.body.id}`, { token: b.token }),
    ]) {
      expect(res.status).toBe(404);
    }
    const list = await api.get<ListCollectionsResponse>("/v1/rag/collections", { token: b.token });
    expect(list.body.data.map((c) => c.id)).toEqual([theirs.body.id]);
    expect((await api.get(`/v1/rag/collections/${mine.body.id}`, { token: a.token })).status).toBe(200);
  });

  it("lets viewers read but not write", async () => {
    const tenant = await createTenant();
    const viewer = await tenant.keyWithRole("viewer");
    const member = await tenant.keyWithRole("member");
    expect((await create(viewer, { name: "v" })).status).toBe(403);
    const made = await create(member, { name: "m" });
    expect(made.status).toBe(201);
    expect((await api.get(`/v1/rag/collections/${made.body.id}`, { token: viewer })).status).toBe(200);
    expect((await api.get("/v1/rag/collections")).status).toBe(401);
  });
});
