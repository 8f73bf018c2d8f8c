import { describe, expect, it } from "vitest";
import { hashedVector } from "./local";
import { embeddingProvider } from "./provider";
import { fakeEmbeddingsScope } from "./test-fixtures";
import type { EmbeddingChoice } from "./types";

const tag = () => crypto.randomUUID().slice(0, 8);
const small: EmbeddingChoice = { provider: "openai", model: "text-embedding-3-small", dim: 1536 };

describe("OpenAI-compatible embeddings", () => {
  it("asks for floats with the bearer key, and counts the vendor's prompt tokens", async () => {
    const fake = fakeEmbeddingsScope();
    const texts = [`one two three ${tag()}`, "five six"];

    const result = await embeddingProvider(small, fake.settings).embed(texts, "document");

    expect(result.vectors).toEqual(texts.map((t) => hashedVector(t, 1536)));
    expect(result.tokens).toBe(6);
    const [request] = await fake.requests("openai");
    expect(request?.path).toBe("/v1/embeddings");
    expect(request?.headers.authorization).toBe(`Bearer ${fake.settings.openai.apiKey}`);
    // The model's default size: no `dimensions`, and no `input_type` (OpenAI has none).
    expect(request?.body).toEqual({
      input: texts,
      model: "text-embedding-3-small",
      encoding_format: "float",
    });
  });

  it("shortens text-embedding-3 vectors with `dimensions`", async () => {
    const fake = fakeEmbeddingsScope();
    const choice: EmbeddingChoice = { provider: "openai", model: "text-embedding-3-large", dim: 1024 };
    const { vectors } = await embeddingProvider(choice, fake.settings).embed(["text"], "query");
    expect(vectors[0]).toHaveLength(1024);
    const [request] = await fake.requests("openai");
    expect(request?.body).toMatchObject({ dimensions: 1024 });
  });

  it("sends no `dimensions` to other servers' models", async () => {
    const fake = fakeEmbeddingsScope();
    const choice: EmbeddingChoice = { provider: "openai", model: "nomic-embed-text", dim: 768 };
    await embeddingProvider(choice, fake.settings).embed(["text"], "document");
    const [request] = await fake.requests("openai");
    expect(request?.body).not.toHaveProperty("dimensions");
  });

  it("puts vectors in input order by `index`", async () => {
    const fake = fakeEmbeddingsScope();
    const texts = [`first [[reverse]] ${tag()}`, "second", "third", "fourth"];
    const { vectors } = await embeddingProvider(small, fake.settings).embed(texts, "document");
    expect(vectors).toEqual(texts.map((t) => hashedVector(t, 1536)));
  });

  it("scrubs the key from an error that echoes it", async () => {
    const fake = fakeEmbeddingsScope();
    const apiKey = `sk-wrong-${tag()}`;
    const provider = embeddingProvider(small, {
      ...fake.settings,
      openai: { ...fake.settings.openai, apiKey },
    });
    const error = await provider.embed(["text"], "document").catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, status: 401 });
    const { message } = error as Error;
    expect(message).toBe(
      "OpenAI-compatible server embeddings request failed with 401: Incorrect API key provided: [redacted].",
    );
    expect(message).not.toContain(apiKey);
  });

  it("an unknown model fails for good with the server's reason", async () => {
    const fake = fakeEmbeddingsScope();
    const choice: EmbeddingChoice = { provider: "openai", model: "no-such-model", dim: 768 };
    const error = await embeddingProvider(choice, fake.settings)
      .embed(["text"], "document")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, status: 404 });
    expect((error as Error).message).toContain("The model `no-such-model` does not exist");
  });
});
