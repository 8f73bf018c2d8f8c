import { describe, expect, it } from "vitest";
import { chunks } from "../../../db/schema/rag";
import { api, type ProblemBody } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { withTenantDb } from "../conversations/test-fixtures";
import type { AcceptedDocumentResponse } from "./create-document";
import type { CreateDocumentsResponse } from "./create-documents-batch";
import type { ListDocumentsResponse } from "./list-documents";
import type { RetryDocumentsResponse } from "./retry-document";
import { createCollection, type DocumentResponse, settled, uploadText } from "./test-fixtures";

const HANDBOOK = [
  "# Refunds",
  "",
  "Customers can ask for a refund within 30 days of purchase. Refunds go back to the original card.",
  "",
  "# Shipping",
  "",
  "Orders ship from Rotterdam within two working days. Tracking links arrive by email.",
].join("\n");

async function chunkRows(tenantId: string, documentId: string) {
  return withTenantDb(tenantId, (db) =>
    db.query.chunks.findMany({
      where: (c, { eq }) => eq(c.documentId, documentId),
      orderBy: (c) => c.ordinal,
    }),
  );
}

describe("knowledge-base documents", () => {
  it("queues an upload (202) and ingests it through the real queue into chunks whose offsets point into its text", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const accepted = await uploadText(token, collection.id, HANDBOOK, {
      mimeType: "text/markdown",
      title: "Handbook",
      metadata: { team: "support" },
    });
    expect(accepted.status).toBe("queued");
    expect(accepted.duplicate).toBe(false);
    expect(accepted.stages.queued).toBeDefined();

    const done = await settled(token, accepted.id);
    expect(done.status, done.statusReason ?? "").toBe("indexed");
    expect(done.attempts).toBe(1);
    expect(Object.keys(done.stages)).toEqual(
      expect.arrayContaining(["queued", "parsing", "chunking", "embedding", "indexed"]),
    );
    expect(done.content).toBe(HANDBOOK);
    expect(done.chunkCount).toBeGreaterThan(0);
    expect(done.embeddingTokens).toBeGreaterThan(0);

    const rows = await chunkRows(tenant.id, accepted.id);
    expect(rows).toHaveLength(done.chunkCount ?? -1);
    for (const row of rows) {
      expect(row.content).toBe(HANDBOOK.slice(row.startOffset ?? -1, row.endOffset ?? -1));
      expect(row.metadata).toEqual({ team: "support" });
      if (row.role === "leaf") {
        expect(row.embedding).toHaveLength(384);
        expect(row.embeddingModel).toBe("meridian-hashed-ngrams-v1");
      } else {
        expect(row.embedding).toBeNull();
      }
    }
    expect(rows.some((r) => r.role === "leaf" && r.content.includes("30 days"))).toBe(true);

    const stats = await api.get<{ stats: { documents: Record<string, number>; chunks: number } }>(
      `/v1/rag/collections/${collection.id}`,
      { token },
    );
    expect(stats.body.stats.documents.indexed).toBe(1);
    expect(stats.body.stats.chunks).toBe(rows.length);
  });

  it("takes the same bytes once: a second upload answers 200 with the first document and makes no chunks", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const first = await uploadText(token, collection.id, "Exactly the same words, twice.");
    await settled(token, first.id);
    const again = await api.post<AcceptedDocumentResponse>("/v1/rag/documents", {
      token,
      body: { collectionId: collection.id, content: "Exactly the same words, twice." },
    });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(again.body.id).toBe(first.id);
    const all = await withTenantDb(tenant.id, (db) => db.select().from(chunks));
    expect(all.every((c) => c.documentId === first.id)).toBe(true);
    expect(all).toHaveLength((await settled(token, first.id)).chunkCount ?? -1);
  });

  it("accepts multipart uploads, one file or a batch, and guesses a type from the file name", async () => {
    const { token } = await createTenant();
    const collection = await createCollection(token);
    const form = new FormData();
    form.set("collectionId", collection.id);
    form.set("metadata", JSON.stringify({ kind: "csv" }));
    form.set(
      "file",
      new File(["name,role\nAda,engineer\nGrace,admiral\n"], "people.csv", { type: "text/csv" }),
    );
    const single = await api.post<AcceptedDocumentResponse>("/v1/rag/documents", { token, raw: form });
    expect(single.status, JSON.stringify(single.body)).toBe(202);
    expect(single.body.title).toBe("people.csv");
    expect(single.body.metadata).toEqual({ kind: "csv" });
    const csv = await settled(token, single.body.id);
    expect(csv.status).toBe("indexed");
    expect(csv.content).toContain("role: admiral");

    const batch = new FormData();
    batch.set("collectionId", collection.id);
    batch.append(
      "files",
      new File(["<h1>Title</h1><p>Some &amp; html</p>"], "page.html", { type: "text/html" }),
    );
    batch.append("files", new File(['{"a":{"b":[1,2]}}'], "data.json", { type: "application/octet-stream" }));
    batch.append("files", new File(["binary"], "image.png", { type: "image/png" }));
    const res = await api.post<CreateDocumentsResponse>("/v1/rag/documents/batch", { token, raw: batch });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.data.map((r) => r.result)).toEqual(["queued", "queued", "rejected"]);
    expect(res.body.data[2]?.error?.status).toBe(415);
    expect(res.body.data[1]?.document?.mimeType).toBe("application/json");
    const html = await settled(token, res.body.data[0]?.document?.id ?? "");
    expect(html.content).toContain("Some & html");
    const json = await settled(token, res.body.data[1]?.document?.id ?? "");
    expect(json.content).toContain("a.b[1]: 2");
  });

  it("takes a JSON batch item by item", async () => {
    const { token } = await createTenant();
    const collection = await createCollection(token);
    const res = await api.post<CreateDocumentsResponse>("/v1/rag/documents/batch", {
      token,
      body: {
        collectionId: collection.id,
        documents: [
          { content: "first document" },
          { content: "second document", mimeType: "text/markdown" },
          { content: "first document" },
          { content: "x", mimeType: "application/zip" },
        ],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.data.map((r) => r.result)).toEqual(["queued", "queued", "duplicate", "rejected"]);
    expect(res.body.data[2]?.document?.id).toBe(res.body.data[0]?.document?.id);
    for (const item of res.body.data.slice(0, 2)) {
      expect((await settled(token, item.document?.id ?? "")).status).toBe("indexed");
    }
  });

  it("answers 415 for an unsupported type, 413 over the upload limit, 400 for a bad body, 404 for another tenant's collection", async () => {
    const { token } = await createTenant();
    const other = await createTenant();
    const collection = await createCollection(token);
    const zip = await api.post<ProblemBody>("/v1/rag/documents", {
      token,
      body: { collectionId: collection.id, content: "PK", mimeType: "application/zip" },
    });
    expect(zip.status).toBe(415);
    expect(zip.body.code).toBe("UNSUPPORTED_MEDIA_TYPE");

    const huge = await api.post<ProblemBody>("/v1/rag/documents", {
      token,
      body: { collectionId: collection.id, content: "a".repeat(10_485_761) },
    });
    expect(huge.status).toBe(413);

    const both = await api.post<ProblemBody>("/v1/rag/documents", {
      token,
      body: { collectionId: collection.id, content: "a", contentBase64: "YQ==" },
    });
    expect(both.status).toBe(400);
    expect(
      (await api.post("/v1/rag/documents", { token, raw: "x", headers: { "content-type": "text/plain" } }))
        .status,
    ).toBe(415);
    expect((await api.post("/v1/rag/documents", { token })).status).toBe(400);

    const foreign = await api.post<ProblemBody>("/v1/rag/documents", {
      token: other.token,
      body: { collectionId: collection.id, content: "sneaking in" },
    });
    expect(foreign.status).toBe(404);
  });

  it("ingests a PDF sent as base64 and records the page of each chunk", async () => {
    const { token, tenant } = await createTenant();
    // Small flat chunks, so each page's text lands in chunks of its own.
    const collection = await createCollection(token, {
      chunking: { chunkTokens: 64, overlapTokens: 0, parentTokens: null },
    });
    const { minimalPdf } = await import("../../../test/fixtures/rag/minimal-pdf");
    const pdf = minimalPdf([
      Array(12).fill("The first page talks about apples."),
      Array(12).fill("The second page talks about pears."),
    ]);
    const res = await api.post<AcceptedDocumentResponse>("/v1/rag/documents", {
      token,
      body: {
        collectionId: collection.id,
        mimeType: "application/pdf",
        contentBase64: btoa(String.fromCharCode(...pdf)),
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await settled(token, res.body.id);
    expect(done.status, done.statusReason ?? "").toBe("indexed");
    const rows = await chunkRows(tenant.id, res.body.id);
    expect(rows.length, JSON.stringify(rows.map((r) => r.content))).toBeGreaterThan(2);
    for (const row of rows) {
      if (row.content.includes("apples")) expect(row.page).toBe(1);
      else if (row.content.includes("pears")) expect(row.page).toBe(2);
    }
    expect(rows.filter((r) => r.page === 2).length).toBeGreaterThan(0);
  });

  it("fails a document that cannot be parsed, with the reason, and retries it on request", async () => {
    const { token } = await createTenant();
    const collection = await createCollection(token);
    const broken = await uploadText(token, collection.id, '{"unterminated": ', {
      mimeType: "application/json",
    });
    const failed = await settled(token, broken.id);
    expect(failed.status).toBe("failed");
    expect(failed.statusReason).toMatch(/json/i);

    const listed = await api.get<ListDocumentsResponse>(
      `/v1/rag/documents?status=failed&collectionId=${collection.id}`,
      {
        token,
      },
    );
    expect(listed.body.data.map((d) => d.id)).toEqual([broken.id]);

    // Only failed documents can be retried; re-ingest takes any.
    const ok = await uploadText(token, collection.id, "A fine document.");
    await settled(token, ok.id);
    expect((await api.post<ProblemBody>(`/v1/rag/documents/${ok.id}/retry`, { token })).status).toBe(409);
    const reingested = await api.post<DocumentResponse>(`/v1/rag/documents/${ok.id}/reingest`, { token });
    expect(reingested.status).toBe(202);
    expect(reingested.body.generation).toBe(2);
    const again = await settled(token, ok.id);
    expect(again.status).toBe("indexed");
    expect(again.generation).toBe(2);

    const retried = await api.post<DocumentResponse>(`/v1/rag/documents/${broken.id}/retry`, { token });
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe("queued");
    expect(retried.body.attempts).toBe(0);
    expect(retried.body.statusReason).toBeNull();
    expect((await settled(token, broken.id)).status).toBe("failed");

    const bulk = await api.post<RetryDocumentsResponse>("/v1/rag/documents/retry", {
      token,
      body: { collectionId: collection.id },
    });
    expect(bulk.status).toBe(202);
    expect(bulk.body).toEqual({ retried: 1, documentIds: [broken.id] });
  });

  it("deletes a document: gone from reads, chunks removed, and the same bytes can come again", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const doc = await uploadText(token, collection.id, "Temporary knowledge.");
    await settled(token, doc.id);
    expect((await api.delete(`/v1/rag/documents/${doc.id}`, { token })).status).toBe(204);
    expect((await api.get(`/v1/rag/documents/${doc.id}`, { token })).status).toBe(404);
    expect(await chunkRows(tenant.id, doc.id)).toHaveLength(0);
    const again = await uploadText(token, collection.id, "Temporary knowledge.");
    expect(again.id).not.toBe(doc.id);
  });

  it("is a wall between tenants: another tenant's document is 404 everywhere and never listed", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const collection = await createCollection(a.token);
    const doc = await uploadText(a.token, collection.id, "Tenant A's secret plan.");
    for (const res of [
      await api.get(`/v1/rag/documents/${doc.id}`, { token: b.token }),
      await api.delete(`/v1/rag/documents/${doc.id}`, { token: b.token }),
      await api.post(`/v1/rag/documents/${doc.id}/retry`, { token: b.token }),
      await api.post(`/v1/rag/documents/${doc.id}/reingest`, { token: b.token }),
    ]) {
      expect(res.status).toBe(404);
    }
    const bulk = await api.post<RetryDocumentsResponse>("/v1/rag/documents/retry", {
      token: b.token,
      body: { documentIds: [doc.id] },
    });
    expect(bulk.body.retried).toBe(0);
    const list = await api.get<ListDocumentsResponse>(`/v1/rag/documents?collectionId=${collection.id}`, {
      token: b.token,
    });
    expect(list.body.data).toEqual([]);
    expect((await settled(a.token, doc.id)).status).toBe("indexed");
  });

  it("lets viewers read documents but not upload, and members upload", async () => {
    const tenant = await createTenant();
    const collection = await createCollection(tenant.token);
    const viewer = await tenant.keyWithRole("viewer");
    const member = await tenant.keyWithRole("member");
    const denied = await api.post("/v1/rag/documents", {
      token: viewer,
      body: { collectionId: collection.id, content: "x" },
    });
    expect(denied.status).toBe(403);
    const doc = await uploadText(member, collection.id, "Members may add knowledge.");
    expect((await api.get(`/v1/rag/documents/${doc.id}`, { token: viewer })).status).toBe(200);
  });
});
