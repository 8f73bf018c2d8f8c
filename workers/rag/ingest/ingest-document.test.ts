import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../../db/client";
import { chunks, documents } from "../../../db/schema/rag";
import { JOBS_DLQ } from "../../../queues/jobs/consumer";
import type { JobMessage } from "../../../queues/jobs/message";
import { runRagStaleSweep } from "../../../queues/jobs/rag-stale-sweep";
import { api } from "../../../test/harness/api";
import { createTenant } from "../../../test/harness/fixtures";
import { parseConfig } from "../../env";
import worker from "../../index";
import { newLogger } from "../../lib/logger";
import { withTenantDb } from "../../routes/conversations/test-fixtures";
import { createCollection, type DocumentResponse, settled } from "../../routes/rag-documents/test-fixtures";
import { fakeEmbeddingsScope } from "../embed/test-fixtures";
import { type IngestDeps, IngestRetry, ingestDocument } from "./ingest-document";
import type { IngestJob } from "./job";
import { ingestDeps, ownerConnection, queuedDocument, type TestIngestDeps } from "./test-fixtures";

const opened: TestIngestDeps[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
});

async function deps(overrides: Partial<IngestDeps> = {}) {
  const made = await ingestDeps(overrides);
  opened.push(made);
  return made;
}

async function documentRow(job: IngestJob) {
  return withTenantDb(job.tenantId, async (db) => {
    const [row] = await db.select().from(documents).where(eq(documents.id, job.documentId));
    return row;
  });
}

async function chunkIds(job: IngestJob): Promise<string[]> {
  return withTenantDb(job.tenantId, async (db) =>
    (await db.select({ id: chunks.id }).from(chunks)).map((r) => r.id).sort(),
  );
}

const TEXT = "Ingestion must never duplicate chunks. ".repeat(200);

describe("document ingestion", () => {
  it("a redelivered message after success changes nothing", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const job = await queuedDocument(tenant.id, collection.id, TEXT);
    const first = await ingestDocument(await deps(), job);
    expect(first.kind).toBe("indexed");
    const before = await chunkIds(job);
    expect(before.length).toBeGreaterThan(1);
    expect(await ingestDocument(await deps(), job)).toEqual({ kind: "skipped" });
    expect(await chunkIds(job)).toEqual(before);
    expect((await documentRow(job))?.attempts).toBe(1);
  });

  it("two deliveries of one job at once end with one set of chunks", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const job = await queuedDocument(tenant.id, collection.id, TEXT);
    const outcomes = await Promise.all([
      ingestDocument(await deps(), job),
      ingestDocument(await deps(), job),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(expect.arrayContaining(["indexed"]));
    const row = await documentRow(job);
    expect(row?.status).toBe("indexed");
    expect(await chunkIds(job)).toHaveLength(row?.chunkCount ?? -1);
  });

  it("a message of an older generation is a no-op once the document was re-queued", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const job = await queuedDocument(tenant.id, collection.id, TEXT);
    await withTenantDb(tenant.id, (db) =>
      db.update(documents).set({ generation: 2 }).where(eq(documents.id, job.documentId)),
    );
    expect(await ingestDocument(await deps(), job)).toEqual({ kind: "skipped" });
    expect((await documentRow(job))?.status).toBe("queued");
    expect((await ingestDocument(await deps(), { ...job, generation: 2 })).kind).toBe("indexed");
  });

  it("a vendor outage: retries keep the stage and reason, the dead letter fails it, and a retry after recovery indexes it", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token, {
      embedding: { provider: "voyage", model: "voyage-3.5-lite" },
    });
    const job = await queuedDocument(tenant.id, collection.id, "Knowledge that needs a vendor.");
    const outage = await deps({
      embedding: {
        ...fakeEmbeddingsScope().settings,
        voyage: { ...fakeEmbeddingsScope().settings.voyage, baseUrl: "http://127.0.0.1:9" },
      },
    });
    await expect(ingestDocument(outage, job)).rejects.toBeInstanceOf(IngestRetry);
    let row = await documentRow(job);
    expect(row?.status).toBe("embedding");
    expect(row?.statusReason).toMatch(/^attempt 1 failed: /);

    // The queue gives up: its dead-letter consumer fails the document with the last reason.
    const message: JobMessage = { type: "rag_ingest", ...job };
    const batch = createMessageBatch<unknown>(JOBS_DLQ, [
      { id: "d1", timestamp: new Date(), attempts: 1, body: message },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["d1"]);
    row = await documentRow(job);
    expect(row?.status).toBe("failed");
    expect(row?.statusReason).toMatch(/^gave up after 1 deliveries; attempt 1 failed: /);

    // The vendor is back (the configured fake): retry through the API and the real queue.
    const retried = await api.post<DocumentResponse>(`/v1/rag/documents/${job.documentId}/retry`, { token });
    expect(retried.status).toBe(202);
    const done = await settled(token, job.documentId);
    expect(done.status, done.statusReason ?? "").toBe("indexed");
    expect(done.generation).toBe(2);
  });

  it("a failing vendor call that succeeds on a later attempt indexes the document with the attempts counted", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token, {
      embedding: { provider: "voyage", model: "voyage-3.5-lite" },
    });
    const job = await queuedDocument(tenant.id, collection.id, "Flaky vendor [[fail-500]] text.");
    const scope = fakeEmbeddingsScope();
    const outcome = await ingestDocument(await deps({ embedding: scope.settings }), job);
    expect(outcome.kind).toBe("indexed");
    expect((await scope.requests("voyage")).length).toBeGreaterThanOrEqual(2);
  });

  it("fails at once, without retrying, when the original cannot be parsed or the vendor refuses for good", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const garbage = await queuedDocument(tenant.id, collection.id, new Uint8Array([0xff, 0xfe, 0x00, 0xc3]));
    const outcome = await ingestDocument(await deps(), garbage);
    expect(outcome.kind).toBe("failed");
    expect((await documentRow(garbage))?.status).toBe("failed");

    const voyage = await createCollection(token, {
      embedding: { provider: "voyage", model: "voyage-3.5-lite" },
    });
    const badDim = await queuedDocument(tenant.id, voyage.id, "Vectors [[bad-dim]] of the wrong size.");
    const refused = await ingestDocument(await deps({ embedding: fakeEmbeddingsScope().settings }), badDim);
    expect(refused.kind).toBe("failed");
    expect((await documentRow(badDim))?.statusReason).toMatch(/dimension|length|size/i);
  });

  it("the stale sweep re-sends stalled work and fails work that used up its attempts", async () => {
    const { token, tenant } = await createTenant();
    const collection = await createCollection(token);
    const stalled = await queuedDocument(tenant.id, collection.id, "Stuck in the queue.");
    const exhausted = await queuedDocument(tenant.id, collection.id, "Stuck for too long.");
    const fresh = await queuedDocument(tenant.id, collection.id, "Just queued.");
    const config = parseConfig(env);
    const owner = await connect(ownerConnection);
    try {
      await owner.query(
        "update documents set status_changed_at = now() - interval '2 hours' where id = any($1::uuid[])",
        [[stalled.documentId, exhausted.documentId]],
      );
      await owner.query("update documents set status = 'embedding', attempts = $2 where id = $1", [
        exhausted.documentId,
        config.RAG_MAX_ATTEMPTS,
      ]);
    } finally {
      await owner.end();
    }
    const sent: JobMessage[] = [];
    const recording = {
      ...env,
      JOBS: {
        sendBatch: async (batch: { body: JobMessage }[]) => void sent.push(...batch.map((m) => m.body)),
      },
    } as unknown as typeof env;
    await runRagStaleSweep(recording, config, newLogger("silent", {}));
    const mine = sent.filter((m) => m.type === "rag_ingest" && m.tenantId === tenant.id);
    expect(mine).toEqual([{ type: "rag_ingest", ...stalled }]);
    const failed = await documentRow(exhausted);
    expect(failed?.status).toBe("failed");
    expect(failed?.statusReason).toBe(`stalled in embedding after ${config.RAG_MAX_ATTEMPTS} attempts`);
    expect((await documentRow(fresh))?.status).toBe("queued");
    // The re-sent document's clock restarted: the next sweep leaves it alone.
    const again: JobMessage[] = [];
    await runRagStaleSweep(
      {
        ...recording,
        JOBS: { sendBatch: async (b: { body: JobMessage }[]) => void again.push(...b.map((m) => m.body)) },
      } as unknown as typeof env,
      config,
      newLogger("silent", {}),
    );
    expect(again.filter((m) => m.type === "rag_ingest" && m.tenantId === tenant.id)).toEqual([]);
  });
});
