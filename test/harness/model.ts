import { env } from "cloudflare:workers";
import { expect } from "vitest";

/** The local model server the Worker under test talks to. */
export const MODEL_URL = (env as unknown as { ANTHROPIC_BASE_URL: string }).ANTHROPIC_BASE_URL;

export interface RecordedRequest {
  headers: Record<string, string>;
  body: {
    messages: { role: string; content: unknown }[];
    tools?: { name: string }[];
    system?: unknown;
    stream?: boolean;
  };
}

/**
 * Scripts the local model server's answers (see scripts/local-stack/model-server.ts for the
 * steps) for requests sending the returned `x-model-scenario`.
 */
export async function scriptModel(responses: unknown[]): Promise<string> {
  const scenario = `test-${crypto.randomUUID()}`;
  const res = await fetch(`${MODEL_URL}/__script`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scenario, responses }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return scenario;
}

/** What the model server received for `scenario`, oldest first. */
export async function modelRequests(scenario: string): Promise<RecordedRequest[]> {
  const res = await fetch(`${MODEL_URL}/__requests?scenario=${scenario}`);
  return ((await res.json()) as { requests: RecordedRequest[] }).requests;
}
