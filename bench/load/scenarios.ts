/**
 * The scenarios a virtual user picks from, one iteration at a time. Each iteration is one or
 * more requests in a row as one tenant's API key; an iteration stops early when the phase ends.
 */
import { type Answer, type Phase, send } from "./client.ts";
import type { ScenarioName } from "./options.ts";
import type { Outcome, TenantPlan, WorkflowRun } from "./plan.ts";

export const MODEL = "claude-sonnet-4-6";
const ENDED = new Set(["succeeded", "failed", "cancelled"]);
export const POLL_EVERY_MS = 500;

export interface VirtualUser {
  base: string;
  tenant: TenantPlan;
  /** This user's own API key (`Authorization` value): the credential rate limit is per key. */
  key: string;
  phase: Phase;
  random: () => number;
  pollWorkflows: boolean;
  /** Executions this user followed to their end, when the phase records them. */
  workflows: WorkflowRun[] | undefined;
}

function pick<T>(random: () => number, xs: readonly T[]): T {
  return xs[Math.floor(random() * xs.length)] as T;
}

function request(
  vu: VirtualUser,
  scenario: ScenarioName,
  operation: string,
  path: string,
  body?: unknown,
  check?: (body: unknown) => Outcome | undefined,
): Promise<Answer | undefined> {
  const method = operation.slice(0, operation.indexOf(" "));
  return send(vu.phase, vu.base, vu.key, { scenario, operation, method, path, body, check });
}

/** Create, read, update and delete an agent of its own. */
async function crud(vu: VirtualUser): Promise<void> {
  const name = `load ${Math.floor(vu.random() * 1e9).toString(36)}`;
  const created = await request(vu, "crud", "POST /v1/agents", "/v1/agents", {
    name,
    model: MODEL,
    systemPrompt: "You answer in one short sentence.",
  });
  const id = (created?.body as { id?: string } | null)?.id;
  if (created?.outcome !== "ok" || !id) return;
  await request(vu, "crud", "GET /v1/agents/{id}", `/v1/agents/${id}`);
  await request(vu, "crud", "PATCH /v1/agents/{id}", `/v1/agents/${id}`, {
    systemPrompt: "You answer in two short sentences.",
  });
  await request(vu, "crud", "DELETE /v1/agents/{id}", `/v1/agents/${id}`);
}

/** One of the tenant's lists, first page. */
async function lists(vu: VirtualUser): Promise<void> {
  const { collectionId } = vu.tenant;
  const [operation, path] = pick(vu.random, [
    ["GET /v1/agents", "/v1/agents?limit=20"],
    ["GET /v1/workflows", "/v1/workflows?limit=20"],
    ["GET /v1/rag/collections", "/v1/rag/collections?limit=20"],
    ["GET /v1/rag/documents", `/v1/rag/documents?collectionId=${collectionId}&limit=20`],
    ["GET /v1/agent-runs", "/v1/agent-runs?limit=20"],
    ["GET /v1/workflow-executions", "/v1/workflow-executions?limit=20"],
  ] as const);
  await request(vu, "lists", operation, path);
}

/** A hybrid search of the tenant's collection on one of its documents' topics. */
async function search(vu: VirtualUser): Promise<void> {
  await request(
    vu,
    "search",
    "POST /v1/rag/search",
    "/v1/rag/search",
    { query: pick(vu.random, vu.tenant.queries), collectionIds: [vu.tenant.collectionId], topK: 5 },
    (body) => ((body as { hits?: unknown[] }).hits?.length ? undefined : "200 no hits"),
  );
}

/** A synchronous run of the tenant's agent on the local model server, in a new conversation. */
async function agent(vu: VirtualUser): Promise<void> {
  await request(
    vu,
    "agent",
    "POST /v1/agents/{id}/execute",
    `/v1/agents/${vu.tenant.agentId}/execute`,
    { message: "Give a one-line status of the load test." },
    (body) => {
      const status = (body as { run?: { status?: string } }).run?.status;
      return status === "succeeded" ? undefined : `200 run ${status ?? "missing"}`;
    },
  );
}

/** Start the tenant's two-agent workflow, then (unless told not to) poll it until it ends. */
async function workflow(vu: VirtualUser): Promise<void> {
  const started = performance.now();
  const accepted = await request(
    vu,
    "workflow",
    "POST /v1/workflows/{id}/execute",
    `/v1/workflows/${vu.tenant.workflowId}/execute`,
    { input: { topic: `load ${Math.floor(vu.random() * 1000)}` } },
  );
  const id = (accepted?.body as { id?: string } | null)?.id;
  if (accepted?.outcome !== "ok" || !id || !vu.pollWorkflows) return;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
    const polled = await request(
      vu,
      "workflow",
      "GET /v1/workflow-executions/{id}",
      `/v1/workflow-executions/${id}`,
    );
    if (!polled) {
      vu.workflows?.push({ ms: performance.now() - started, status: "unfinished" });
      return;
    }
    const status = (polled.body as { status?: string } | null)?.status;
    if (polled.outcome === "ok" && status && ENDED.has(status)) {
      vu.workflows?.push({ ms: performance.now() - started, status });
      return;
    }
  }
}

export const scenarios: Record<ScenarioName, (vu: VirtualUser) => Promise<void>> = {
  crud,
  lists,
  search,
  agent,
  workflow,
};

/** A scenario drawn by weight. */
export function pickScenario(random: () => number, mix: Record<ScenarioName, number>): ScenarioName {
  const entries = Object.entries(mix) as [ScenarioName, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [name, weight] of entries) {
    r -= weight;
    if (r < 0) return name;
  }
  return entries.findLast(([, w]) => w > 0)?.[0] as ScenarioName;
}
