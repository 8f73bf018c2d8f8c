import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { type ConnectionConfig, connect } from "../../../db/client";
import { api, fetchWithBindings, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { scrape } from "../../../test/harness/prometheus";
import type { ListCollectionsResponse } from "./list-collections";

type Collection = ListCollectionsResponse["data"][number];

const bindings = env as unknown as { NEON_WS_PROXY?: string; FAKE_EMBEDDINGS_URL: string };

/** The table owner: changes a row behind the API's back, to tell a cached answer from a fresh one. */
const owner: ConnectionConfig = {
  DATABASE_URL: inject("ownerDatabaseUrl"),
  NEON_WS_PROXY: bindings.NEON_WS_PROXY,
};

async function renameBehindTheApi(id: string, name: string): Promise<void> {
  const client = await connect(owner);
  try {
    await client.query("update collections set name = $2 where id = $1", [id, name]);
  } finally {
    await client.end();
  }
}

async function newCollection(token: string, name = "handbook"): Promise<Collection> {
  const res = await api.post<Collection>("/v1/rag/collections", { token, body: { name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const getCollection = (token: string, id: string) =>
  api.get<Collection & ProblemBody>(`/v1/rag/collections/${id}`, { token });

const search = (token: string, collectionIds: string[]) =>
  api.post<ProblemBody>("/v1/rag/search", { token, body: { query: "rotate api key", collectionIds } });

describe("collection cache", () => {
  it("answers a repeated read from the cache, and shows an update and a delete at once", async () => {
    const { token } = await createTenant();
    const kb = await newCollection(token);
    expect((await getCollection(token, kb.id)).body.name).toBe("handbook");
    await renameBehindTheApi(kb.id, "changed behind the cache");
    expect((await getCollection(token, kb.id)).body.name).toBe("handbook");

    const chunking = { chunkTokens: 200, overlapTokens: 20, parentTokens: null };
    const patched = await api.patch(`/v1/rag/collections/${kb.id}`, {
      token,
      body: { name: "faq", chunking },
    });
    expect(patched.status).toBe(200);
    expect((await getCollection(token, kb.id)).body).toMatchObject({ name: "faq", chunking });

    expect((await search(token, [kb.id])).status).toBe(200);
    expect((await api.delete(`/v1/rag/collections/${kb.id}`, { token })).status).toBe(204);
    expect((await getCollection(token, kb.id)).status).toBe(404);
    const gone = await search(token, [kb.id]);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ code: "NOT_FOUND", detail: `collection ${kb.id} not found` });
  });

  it("gives full-text search the collection from the cache, and every search a changed embedding model at once", async () => {
    const { token } = await createTenant();
    const kb = await newCollection(token);
    const scope = crypto.randomUUID();
    const namespace = `test-${crypto.randomUUID()}`;
    const overrides = {
      METRICS_NAMESPACE: namespace,
      OPENAI_BASE_URL: `${bindings.FAKE_EMBEDDINGS_URL}/s/${scope}/openai`,
    };
    const searchKb = async (mode: "fulltext" | "hybrid") => {
      const res = await fetchWithBindings(
        "/v1/rag/search",
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ query: "rotate api key", collectionIds: [kb.id], mode }),
        },
        overrides,
      );
      expect(res.status, await res.clone().text()).toBe(200);
    };
    const openaiRequests = async () => {
      const res = await fetch(`${bindings.FAKE_EMBEDDINGS_URL}/__requests?vendor=openai&scope=${scope}`);
      return ((await res.json()) as { requests: { body: { model?: string } }[] }).requests;
    };

    await searchKb("fulltext");
    await searchKb("fulltext");
    await searchKb("fulltext");
    // A search that embeds reads the collection from the database, in the round trip that sends
    // its HNSW settings anyway: no cache request.
    await searchKb("hybrid");
    let s = await scrape({ namespace });
    expect(s.value('meridian_cache_requests_total{cache="collection",result="miss"}')).toBe(1);
    expect(s.value('meridian_cache_requests_total{cache="collection",result="hit"}')).toBe(2);
    expect(await openaiRequests()).toHaveLength(0); // the offline model embedded the query

    const patched = await api.patch(`/v1/rag/collections/${kb.id}`, {
      token,
      body: { embedding: { provider: "openai", model: "text-embedding-3-small" } },
    });
    expect(patched.status).toBe(200);
    await searchKb("hybrid");
    await searchKb("fulltext");
    const sent = await openaiRequests();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body.model).toBe("text-embedding-3-small");
    s = await scrape({ namespace });
    expect(s.value('meridian_cache_requests_total{cache="collection",result="miss"}')).toBe(2);
  });

  it("never answers one tenant with another's entry", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const kbA = await newCollection(a.token, "handbook");
    const kbB = await newCollection(b.token, "handbook");
    await getCollection(a.token, kbA.id);
    expect((await search(a.token, [kbA.id])).status).toBe(200);
    expect((await getCollection(b.token, kbA.id)).status).toBe(404);
    expect((await search(b.token, [kbA.id])).status).toBe(404);
    expect((await search(b.token, [kbB.id])).status).toBe(200);
    await api.patch(`/v1/rag/collections/${kbA.id}`, { token: a.token, body: { description: "A's" } });
    expect((await getCollection(b.token, kbB.id)).body.description).toBeNull();
    expect((await getCollection(a.token, kbA.id)).body.description).toBe("A's");
  });

  it("ends on the last write when updates and reads run concurrently", async () => {
    const { token } = await createTenant();
    const kb = await newCollection(token);
    for (let round = 1; round <= 3; round++) {
      const reads = Array.from({ length: 4 }, () => getCollection(token, kb.id));
      const write = api.patch(`/v1/rag/collections/${kb.id}`, {
        token,
        body: { description: `round ${round}` },
      });
      const searches = Array.from({ length: 2 }, () => search(token, [kb.id]));
      const answers = await Promise.all([...reads, write, ...searches]);
      expect(answers.every((res) => res.status === 200)).toBe(true);
      for (let i = 0; i < 3; i++) {
        expect((await getCollection(token, kb.id)).body.description).toBe(`round ${round}`);
      }
    }
  });
});
