import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { ReceivedWebhook } from "../../../scripts/local-stack/webhook-sink";
import { api } from "../../../test/harness/api";
import type { WorkflowResponse } from "../workflows/schemas";
import type { ExecutionDetailResponse, ExecutionResponse } from "./schemas";

/** The recording HTTP receiver of the test stack: http steps call it. */
export const SINK = (env as unknown as { WEBHOOK_SINK_URL: string }).WEBHOOK_SINK_URL;

/** A path of the sink no other test uses, optionally with scripted answers (and a delay before each). */
export async function sinkPath(statuses: number[] = [], delayMs = 0): Promise<string> {
  const path = `/wf/${crypto.randomUUID()}`;
  if (statuses.length > 0 || delayMs > 0) {
    const res = await fetch(`${SINK}/__status`, {
      method: "POST",
      body: JSON.stringify({ path, statuses: statuses.length > 0 ? statuses : [200], delayMs }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  return path;
}

export async function sinkReceived(path: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${SINK}/__received?path=${encodeURIComponent(path)}`);
  return ((await res.json()) as { received: ReceivedWebhook[] }).received;
}

export async function createWorkflow(
  token: string,
  definition: unknown,
  extra: { inputSchema?: unknown; name?: string } = {},
): Promise<WorkflowResponse> {
  const res = await api.post<WorkflowResponse>("/v1/workflows", {
    token,
    body: {
      name: extra.name ?? "test workflow",
      definition,
      ...(extra.inputSchema ? { inputSchema: extra.inputSchema } : {}),
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function execute(
  token: string,
  workflowId: string,
  input: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<ExecutionResponse> {
  const res = await api.post<ExecutionResponse>(`/v1/workflows/${workflowId}/execute`, {
    token,
    headers,
    body: { input },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

const ENDED = ["succeeded", "failed", "cancelled"];

/** Polls the execution until its status is one of `statuses` (default: any end). */
export async function waitFor(
  token: string,
  id: string,
  statuses: string[] = ENDED,
  timeoutMs = 15_000,
): Promise<ExecutionDetailResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get<ExecutionDetailResponse>(`/v1/workflow-executions/${id}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (statuses.includes(res.body.status)) return res.body;
    if (Date.now() > deadline)
      throw new Error(`execution ${id} still ${res.body.status}: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a workflow of `definition` to its end. */
export async function runToEnd(token: string, definition: unknown, input: Record<string, unknown> = {}) {
  const workflow = await createWorkflow(token, definition);
  const started = await execute(token, workflow.id, input);
  return waitFor(token, started.id);
}

/** The attempts of one step, in order. */
export function attemptsOf(execution: ExecutionDetailResponse, stepId: string) {
  return execution.steps.filter((s) => s.stepId === stepId).sort((a, b) => a.attempt - b.attempt);
}
