import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant } from "../../test/harness/fixtures";
import { ownerQuery } from "../../test/harness/owner-db";
import worker from "../../workers/index";
import { queuedDocument } from "../../workers/rag/ingest/test-fixtures";
import { createCollection } from "../../workers/routes/rag-documents/test-fixtures";
import type { JobMessage } from "./message";

async function statuses(ids: string[]): Promise<string[]> {
  const { rows } = await ownerQuery<{ id: string; status: string }>(
    "select id, status from documents where id = any($1::uuid[])",
    [ids],
  );
  return ids.map((id) => rows.find((r) => r.id === id)?.status ?? "missing");
}

describe("rag_ingest messages of one batch", () => {
  it("share connections, yet each is acknowledged or retried on its own", async () => {
    const { token, tenant } = await createTenant();
    const local = await createCollection(token);
    const vendor = await createCollection(token, {
      embedding: { provider: "voyage", model: "voyage-3.5-lite" },
    });
    const jobs = [
      await queuedDocument(tenant.id, local.id, "The first document. ".repeat(300)),
      // The vendor keeps answering 429 with a long Retry-After: this attempt fails and is retried.
      await queuedDocument(tenant.id, vendor.id, "Rate limited [[fail-429-long]] text."),
      await queuedDocument(tenant.id, local.id, "The third document. ".repeat(300)),
      await queuedDocument(tenant.id, local.id, "The fourth document. ".repeat(300)),
    ];
    const batch = createMessageBatch<unknown>(
      "meridian-jobs",
      jobs.map((job, i) => ({
        id: `m${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: { type: "rag_ingest", ...job } satisfies JobMessage,
      })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m0", "m2", "m3"]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(["m1"]);
    expect(await statuses(jobs.map((j) => j.documentId))).toEqual([
      "indexed",
      "embedding",
      "indexed",
      "indexed",
    ]);
  });
});
