import { inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { usageEvents } from "../../db/schema/usage";
import { api } from "../../test/harness/api";
import { createTenant } from "../../test/harness/fixtures";
import type { QuotaReport } from "../quotas/report";
import { withTenantDb } from "../routes/conversations/test-fixtures";
import type { CreateDocumentsResponse } from "../routes/rag-documents/create-documents-batch";
import { createCollection, settled, uploadText } from "../routes/rag-documents/test-fixtures";
import type { UsageReport } from "../routes/usage/schemas";
import { recordUsageEvents } from "./record";
import { storedDocumentEvents } from "./stored-document";

/** The tenant's stored-document rows (ingestion's meters are left out). */
function storedEvents(tenantId: string) {
  return withTenantDb(tenantId, (db) =>
    db
      .select()
      .from(usageEvents)
      .where(inArray(usageEvents.meter, ["documents", "storage_bytes"])),
  );
}

const bytesOf = (text: string) => new TextEncoder().encode(text).byteLength;

describe("usage: stored documents", () => {
  it("meters a document and its original's bytes once when the upload is accepted", async () => {
    const { tenant, token, owner } = await createTenant();
    const kb = await createCollection(token);
    const text = "Refunds are paid within 30 days to the original card. Crédit never expires.";
    const doc = await uploadText(token, kb.id, text);
    const rows = await storedEvents(tenant.id);
    expect(rows.map((r) => [r.eventKey, r.meter, r.quantity, r.unit]).sort()).toEqual(
      [
        [`stored_document:${doc.id}:documents`, "documents", 1, "documents"],
        [`stored_document:${doc.id}:storage_bytes`, "storage_bytes", bytesOf(text), "bytes"],
      ].sort(),
    );
    for (const row of rows) {
      expect(row).toMatchObject({
        costMicroUsd: 0,
        resourceType: "document",
        resourceId: doc.id,
        userId: owner.id,
        apiKeyId: null,
      });
    }

    // The same bytes again return the same document; a re-ingest reads the stored original.
    const again = await api.post<{ id: string; duplicate: boolean }>("/v1/rag/documents", {
      token,
      body: { collectionId: kb.id, content: text },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: doc.id, duplicate: true });
    expect((await settled(token, doc.id)).status).toBe("indexed");
    const reingest = await api.post(`/v1/rag/documents/${doc.id}/reingest`, { token });
    expect(reingest.status).toBe(202);
    expect((await settled(token, doc.id)).generation).toBe(2);
    // And the events once more, as the upload's code builds them.
    await withTenantDb(tenant.id, (db) =>
      recordUsageEvents(
        db,
        storedDocumentEvents({
          documentId: doc.id,
          sizeBytes: 1,
          actor: { kind: "user", id: owner.id, role: "owner" },
        }),
      ),
    );
    expect((await storedEvents(tenant.id)).map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it("meters each document a batch stores, and GET /v1/usage agrees with the events and the quota report", async () => {
    const { tenant, token, keyWithRole } = await createTenant();
    const kb = await createCollection(token);
    const key = await keyWithRole("member");
    const contents = ["First stored document.", "Second, a little longer stored document."];
    const batch = await api.post<CreateDocumentsResponse>("/v1/rag/documents/batch", {
      token: key,
      body: {
        collectionId: kb.id,
        documents: [
          { content: contents[0], mimeType: "text/plain" },
          { content: "refused", mimeType: "image/png" },
          { content: contents[1], mimeType: "text/plain" },
        ],
      },
    });
    expect(batch.status, JSON.stringify(batch.body)).toBe(202);
    expect(batch.body.data.map((d) => d.result)).toEqual(["queued", "rejected", "queued"]);
    await uploadText(token, kb.id, "One more, uploaded on its own.");

    const rows = await storedEvents(tenant.id);
    expect(rows).toHaveLength(6);
    const byKey = rows.filter((r) => r.apiKeyId !== null);
    expect(byKey.map((r) => r.resourceId).sort()).toEqual(
      [...batch.body.data.flatMap((d) => (d.document ? [d.document.id, d.document.id] : []))].sort(),
    );
    const sum = (meter: string) =>
      rows.filter((r) => r.meter === meter).reduce((total, r) => total + r.quantity, 0);
    expect(sum("storage_bytes")).toBe(
      bytesOf(contents[0] ?? "") + bytesOf(contents[1] ?? "") + bytesOf("One more, uploaded on its own."),
    );

    const report = await api.get<UsageReport>("/v1/usage", { token });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body.totals.byMeter.documents).toEqual({ quantity: sum("documents"), costMicroUsd: 0 });
    expect(report.body.totals.byMeter.storage_bytes).toEqual({
      quantity: sum("storage_bytes"),
      costMicroUsd: 0,
    });
    // Nothing deleted yet: what was stored is what is held.
    const quotas = await api.get<QuotaReport>("/v1/quotas", { token });
    expect(quotas.status).toBe(200);
    expect(quotas.body.used).toMatchObject({
      documents: sum("documents"),
      storageBytes: sum("storage_bytes"),
    });
  });
});
