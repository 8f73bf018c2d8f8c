import type { TestProject } from "vitest/node";
import {
  FAKE_EMBEDDINGS_KEY,
  startFakeEmbeddingsServer,
} from "../../scripts/local-stack/fake-embeddings-server.ts";
import { startFakeMcpServer } from "../../scripts/local-stack/fake-mcp-server.ts";
import { startFakeOtlpReceiver } from "../../scripts/local-stack/fake-otlp-receiver.ts";
import { startFakeSentryServer } from "../../scripts/local-stack/fake-sentry-server.ts";
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
  // A trace collector (OTLP/HTTP) and a Sentry (envelopes): every test runs traced and with
  // error reporting on, as a deployment configured with both; tests of the "off" path pass an
  // env without them.
  const closeAll = async () => {
    await fakeEmbeddings.close();
    await fakeMcp.close();
    await sink.close();
    await stack.close();
  };
  const otlp = await startFakeOtlpReceiver().catch(async (error: unknown) => {
    await closeAll();
    throw error;
  });
  const sentry = await startFakeSentryServer().catch(async (error: unknown) => {
    await otlp.close();
    await closeAll();
    throw error;
  });
  for (const line of stack.describe) console.log(`[local stack] ${line}`);
  console.log(`[local stack] Webhook sink: ${sink.url}`);
  console.log(`[local stack] Fake MCP server: ${fakeMcp.url}`);
  console.log(`[local stack] Fake embeddings server: ${fakeEmbeddings.url}`);
  console.log(`[local stack] Fake OTLP receiver: ${otlp.url}`);
  console.log(`[local stack] Fake Sentry: ${sentry.url}`);
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
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_HEADERS: "x-meridian-test=otlp-headers-reach-the-collector",
    OTEL_SERVICE_NAME: "meridian-test",
    FAKE_OTLP_URL: otlp.url,
    SENTRY_DSN: sentry.dsn(42),
    FAKE_SENTRY_URL: sentry.url,
  });
  return async () => {
    await sentry.close();
    await otlp.close();
    await fakeEmbeddings.close();
    await fakeMcp.close();
    await sink.close();
    await stack.close();
  };
}
