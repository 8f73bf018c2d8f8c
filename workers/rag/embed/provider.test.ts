import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../env";
import { LOCAL_EMBEDDING_MODEL } from "./local";
import { type EmbeddingSettings, embeddingProvider, embeddingSettings } from "./provider";
import { FAKE_EMBEDDINGS_URL, fakeEmbeddingsScope } from "./test-fixtures";
import { type EmbeddingChoice, EmbeddingError } from "./types";

describe("embeddingSettings", () => {
  it("reads the vendors' keys and URLs from the config", () => {
    const settings = embeddingSettings(parseConfig(env), env);
    expect(settings).toMatchObject({
      voyage: { baseUrl: `${FAKE_EMBEDDINGS_URL}/voyage`, apiKey: expect.any(String) },
      openai: { baseUrl: `${FAKE_EMBEDDINGS_URL}/openai`, apiKey: expect.any(String) },
      workersAi: {
        baseUrl: `${FAKE_EMBEDDINGS_URL}/workers-ai`,
        accountId: "test-account",
        apiToken: expect.any(String),
      },
    });
    // The test Worker has no AI binding (it has no local emulation).
    expect(settings.workersAi.binding).toBeUndefined();
  });
});

describe("embeddingProvider", () => {
  const unconfigured: EmbeddingSettings = {
    voyage: { baseUrl: "http://127.0.0.1:9" },
    openai: { baseUrl: "http://127.0.0.1:9" },
    workersAi: { baseUrl: "http://127.0.0.1:9" },
  };

  it.each<[EmbeddingChoice, string]>([
    [
      { provider: "voyage", model: "voyage-3.5", dim: 1024 },
      "Voyage AI embeddings are not configured: set VOYAGE_API_KEY",
    ],
    [
      { provider: "openai", model: "text-embedding-3-small", dim: 1536 },
      "OpenAI-compatible embeddings are not configured: set OPENAI_API_KEY",
    ],
    [
      { provider: "workers-ai", model: "@cf/baai/bge-small-en-v1.5", dim: 384 },
      'Workers AI embeddings are not configured: add an `[ai] binding = "AI"`, or set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN',
    ],
  ])("builds %j without credentials, and fails when used", async (choice, message) => {
    let calls = 0;
    const provider = embeddingProvider(choice, unconfigured, async () => {
      calls++;
      return new Response("{}");
    });
    expect(provider).toMatchObject(choice);
    const error = await provider.embed(["text"], "document").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error).toMatchObject({ retryable: false, message });
    expect(calls).toBe(0);
  });

  it("answers no texts without calling the vendor", async () => {
    const fake = fakeEmbeddingsScope();
    const provider = embeddingProvider({ provider: "voyage", model: "voyage-3.5", dim: 1024 }, fake.settings);
    expect(await provider.embed([], "document")).toEqual({ vectors: [], tokens: 0 });
    expect(await fake.requests("voyage")).toEqual([]);
  });

  it("refuses more texts than one call takes", async () => {
    const fake = fakeEmbeddingsScope();
    const provider = embeddingProvider({ provider: "voyage", model: "voyage-3.5", dim: 1024 }, fake.settings);
    const texts = Array.from({ length: provider.maxBatch + 1 }, (_, i) => `t${i}`);
    await expect(provider.embed(texts, "document")).rejects.toThrow(/takes at most 128 texts per call/);
    expect(await fake.requests("voyage")).toEqual([]);
  });

  it("builds the offline provider for `local`, whatever is configured", async () => {
    const provider = embeddingProvider(
      { provider: "local", model: LOCAL_EMBEDDING_MODEL, dim: 384 },
      unconfigured,
    );
    expect(provider).toMatchObject({ provider: "local", model: LOCAL_EMBEDDING_MODEL, dim: 384 });
    const { vectors } = await provider.embed(["hello"], "query");
    expect(vectors[0]).toHaveLength(384);
  });

  it("treats a network failure as retryable", async () => {
    const settings = { ...unconfigured, voyage: { baseUrl: "http://127.0.0.1:9", apiKey: "key" } };
    const provider = embeddingProvider(
      { provider: "voyage", model: "voyage-3.5", dim: 1024 },
      settings,
      async () => {
        throw new TypeError("Network connection lost.");
      },
    );
    await expect(provider.embed(["text"], "document")).rejects.toMatchObject({
      retryable: true,
      message: "Voyage AI embeddings request failed: Network connection lost.",
    });
  });
});
