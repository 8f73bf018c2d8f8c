import type { TestProject } from "vitest/node";
import {
  FAKE_EMBEDDINGS_KEY,
  startFakeEmbeddingsServer,
} from "../../scripts/local-stack/fake-embeddings-server.ts";
import { startFakeMcpServer } from "../../scripts/local-stack/fake-mcp-server.ts";
import { startLocalStack } from "../../scripts/local-stack/index.ts";
import { startWebhookSink } from "../../scripts/local-stack/webhook-sink.ts";

/**
 * Starts the real local parts once for the whole run and hands their addresses to the
 * Workers pool as bindings. Fresh tenants per test keep tests apart, so nothing is reset.
 */
export default async function setup(project: TestProject) {
  const stack = await startLocalStack({
    database: process.env.MERIDIAN_TEST_DATABASE ?? "meridian_test",
    requireServers: process.env.CI === "true",
  });
  // A recording webhook receiver on 127.0.0.1; OUTBOUND_ALLOW_PRIVATE lets the Worker reach it.
  const sink = await startWebhookSink().catch(async (error: unknown) => {
    await stack.close();
    throw error;
  });
  // A remote MCP server (the SDK's own server classes) for tenants to register.
  const fakeMcp = await startFakeMcpServer().catch(async (error: unknown) => {
    await sink.close();
    await stack.close();
    throw error;
  });
  // Voyage, OpenAI and Workers AI wire formats, for collections that embed with a vendor.
  const fakeEmbeddings = await startFakeEmbeddingsServer().catch(async (error: unknown) => {
    await fakeMcp.close();
    await sink.close();
    await stack.close();
    throw error;
  });
  for (const line of stack.describe) console.log(`[local stack] ${line}`);
  console.log(`[local stack] Webhook sink: ${sink.url}`);
  console.log(`[local stack] Fake MCP server: ${fakeMcp.url}`);
  console.log(`[local stack] Fake embeddings server: ${fakeEmbeddings.url}`);
  project.provide("stack", stack.kind);
  project.provide("ownerDatabaseUrl", stack.ownerUrl);
  project.provide("workerBindings", {
    ...stack.bindings,
    ENVIRONMENT: "test",
    LOG_LEVEL: "silent",
    // Short enough for tests to wait out: a streamed run nobody reattaches to, an unanswered approval.
    AGENT_RUN_GRACE_SECONDS: "2",
    AGENT_APPROVAL_TTL_SECONDS: "3",
    // /metrics as production runs it: behind a bearer token.
    METRICS_TOKEN: "test-metrics-token-7f3a9c2e51",
    WEBHOOK_SINK_URL: sink.url,
    FAKE_MCP_URL: fakeMcp.url,
    OUTBOUND_ALLOW_PRIVATE: "true",
    FAKE_EMBEDDINGS_URL: fakeEmbeddings.url,
    VOYAGE_BASE_URL: `${fakeEmbeddings.url}/voyage`,
    VOYAGE_API_KEY: FAKE_EMBEDDINGS_KEY,
    OPENAI_BASE_URL: `${fakeEmbeddings.url}/openai`,
    OPENAI_API_KEY: FAKE_EMBEDDINGS_KEY,
    WORKERS_AI_BASE_URL: `${fakeEmbeddings.url}/workers-ai`,
    CLOUDFLARE_ACCOUNT_ID: "test-account",
    CLOUDFLARE_API_TOKEN: FAKE_EMBEDDINGS_KEY,
  });
  return async () => {
    await fakeEmbeddings.close();
    await fakeMcp.close();
    await sink.close();
    await stack.close();
  };
}
