/**
 * The tenants the load runs against, made through the API as a user would: a tenant per
 * platform-admin call, its owner signed in, `member` keys, an agent on the local model, a
 * collection with documents ingested through the queue, and a workflow from a template.
 */
import { randomBytes } from "node:crypto";
import { type Corpus, markdownDocument, queryText } from "../rag-search/corpus.ts";
import { createApiKeys, type JsonClient } from "../shared.ts";
import type { TenantPlan } from "./plan.ts";
import { MODEL } from "./scenarios.ts";

/** Raised from the defaults (10 runs per agent, 20 executions per tenant) so they do not cap the load. */
const DEFAULT_LIMITS = { maxConcurrentExecutions: 100, maxConcurrentWorkflows: 200 };
const DOCUMENT_CHARS = 6000;
const QUERIES_PER_DOCUMENT = 4;
const WORKFLOW_TEMPLATE = "research-then-summarise";

/** The owner's access token, as `Authorization` headers. */
type Owner = { authorization: string };

/** A tenant with raised concurrency limits and its owner, signed in. */
async function createTenant(json: JsonClient, adminToken: string): Promise<{ slug: string; owner: Owner }> {
  const slug = `load-${randomBytes(4).toString("hex")}`;
  const email = `owner@${slug}.test`;
  const password = randomBytes(16).toString("hex");
  await json("/v1/tenants", {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      slug,
      name: `load ${slug}`,
      owner: { email, password },
      settings: { defaultLimits: DEFAULT_LIMITS },
    }),
  });
  const login = await json<{ accessToken: string }>("/v1/auth/login", {
    method: "POST",
    body: JSON.stringify({ tenant: slug, email, password }),
  });
  return { slug, owner: { authorization: `Bearer ${login.accessToken}` } };
}

export interface SeededTenant {
  plan: TenantPlan;
  owner: Owner;
  documents: number;
}

/**
 * Makes one tenant and everything its virtual users call. Documents are only queued here:
 * {@link waitUntilIndexed} waits for them.
 *
 * @throws Error from the first request that is not 2xx.
 */
export async function seedTenant(
  json: JsonClient,
  adminToken: string,
  opts: { keys: number; documents: number; corpus: Corpus; random: () => number; firstTopic: number },
): Promise<SeededTenant> {
  const { slug, owner } = await createTenant(json, adminToken);
  const post = <T>(path: string, body: unknown) =>
    json<T>(path, { method: "POST", headers: owner, body: JSON.stringify(body) });
  const keys = await createApiKeys(json, owner, opts.keys, "member");
  const agent = await post<{ id: string }>("/v1/agents", {
    name: "load agent",
    model: MODEL,
    systemPrompt: "You answer in one short sentence.",
  });
  const collection = await post<{ id: string }>("/v1/rag/collections", {
    name: "load documents",
    embedding: { provider: "local" },
  });
  const topics = Array.from({ length: opts.documents }, (_, i) => opts.firstTopic + i);
  const { data } = await post<{ data: { result: string }[] }>("/v1/rag/documents/batch", {
    collectionId: collection.id,
    documents: topics.map((topic, i) => ({
      title: `load document ${i + 1}`,
      mimeType: "text/markdown",
      content: markdownDocument(opts.corpus, opts.random, topic, DOCUMENT_CHARS),
      metadata: { topic },
    })),
  });
  if (data.some((d) => d.result !== "queued"))
    throw new Error(`${slug}: upload refused: ${JSON.stringify(data)}`);
  const workflow = await post<{ workflow: { id: string } }>(
    `/v1/workflow-templates/${WORKFLOW_TEMPLATE}/instantiate`,
    { name: "load digest", parameters: { model: MODEL } },
  );
  const queries = topics.flatMap((topic) =>
    Array.from({ length: QUERIES_PER_DOCUMENT }, () => queryText(opts.corpus, opts.random, topic)),
  );
  return {
    plan: {
      slug,
      keys: keys.map((k) => k.authorization),
      agentId: agent.id,
      collectionId: collection.id,
      workflowId: workflow.workflow.id,
      queries,
    },
    owner,
    documents: opts.documents,
  };
}

/**
 * Polls each tenant's collection until every document is `indexed`.
 *
 * @throws Error when a document failed, or after `timeoutMs` with the documents still in progress.
 */
export async function waitUntilIndexed(
  json: JsonClient,
  tenants: SeededTenant[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(tenants);
  while (pending.size > 0) {
    for (const tenant of pending) {
      const { data } = await json<{ data: { status: string }[] }>(
        `/v1/rag/documents?collectionId=${tenant.plan.collectionId}&limit=100`,
        { headers: tenant.owner },
      );
      const failed = data.filter((d) => d.status === "failed").length;
      if (failed > 0) throw new Error(`${tenant.plan.slug}: ${failed} documents failed to ingest`);
      const indexed = data.filter((d) => d.status === "indexed").length;
      if (indexed === tenant.documents) pending.delete(tenant);
      else if (Date.now() > deadline) {
        throw new Error(
          `${tenant.plan.slug}: ${indexed}/${tenant.documents} documents indexed after ${timeoutMs / 1000} s ` +
            "(BENCH_WRANGLER_LOGS=1 LOG_LEVEL=info shows the consumer's warnings)",
        );
      }
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
