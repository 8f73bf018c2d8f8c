import { describe, expect, it } from "vitest";
import { hashedVector } from "./local";
import { embeddingProvider } from "./provider";
import { fakeEmbeddingsScope } from "./test-fixtures";
import { EmbeddingError } from "./types";

const tag = () => crypto.randomUUID().slice(0, 8);

describe("Voyage AI embeddings", () => {
  it("sends the texts, model and input type with the bearer key, and maps the answer", async () => {
    const fake = fakeEmbeddingsScope();
    const provider = embeddingProvider({ provider: "voyage", model: "voyage-3.5", dim: 1024 }, fake.settings);
    // The second text repeats words and n-grams: the fake (Node) must weigh them as the Worker does.
    const texts = [`one two ${tag()}`, "four five five five index indexes indexed indexing index index"];

    const result = await provider.embed(texts, "document");

    expect(result.vectors).toEqual(texts.map((t) => hashedVector(t, 1024)));
    // The fake bills one token per word.
    expect(result.tokens).toBe(13);
    const [request] = await fake.requests("voyage");
    expect(request?.path).toBe("/v1/embeddings");
    expect(request?.headers.authorization).toBe(`Bearer ${fake.settings.voyage.apiKey}`);
    expect(request?.body).toEqual({ input: texts, model: "voyage-3.5", input_type: "document" });
  });

  it("embeds a query as input_type query", async () => {
    const fake = fakeEmbeddingsScope();
    const provider = embeddingProvider({ provider: "voyage", model: "voyage-3.5", dim: 1024 }, fake.settings);
    await provider.embed(["how are vectors indexed?"], "query");
    const [request] = await fake.requests("voyage");
    expect(request?.body).toMatchObject({ input_type: "query" });
  });

  it("puts vectors in input order by `index` when the answer is out of order", async () => {
    const fake = fakeEmbeddingsScope();
    const provider = embeddingProvider({ provider: "voyage", model: "voyage-3.5", dim: 1024 }, fake.settings);
    const texts = [`alpha [[reverse]] ${tag()}`, "beta", "gamma"];
    const { vectors } = await provider.embed(texts, "document");
    expect(vectors).toEqual(texts.map((t) => hashedVector(t, 1024)));
  });

  it("asks a Matryoshka model for another size with output_dimension, and reports the vendor's refusal", async () => {
    const fake = fakeEmbeddingsScope();
    const provider = embeddingProvider({ provider: "voyage", model: "voyage-3.5", dim: 768 }, fake.settings);
    const error = await provider.embed(["text"], "document").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toContain("output_dimension 768 is not supported by voyage-3.5");
    const [request] = await fake.requests("voyage");
    expect(request?.body).toMatchObject({ output_dimension: 768 });
  });

  it("sends no output_dimension to a fixed-size model, and refuses its vectors of the wrong size", async () => {
    const fake = fakeEmbeddingsScope();
    const provider = embeddingProvider({ provider: "voyage", model: "voyage-3", dim: 768 }, fake.settings);
    const error = await provider.embed(["text"], "document").catch((e: unknown) => e);
    expect(error).toMatchObject({
      retryable: false,
      message: 'Voyage AI model "voyage-3" returned 1024-dimensional vectors; the collection expects 768',
    });
    const [request] = await fake.requests("voyage");
    expect(request?.body).not.toHaveProperty("output_dimension");
  });

  it("a wrong key fails for good, with Voyage's reason and without the key", async () => {
    const fake = fakeEmbeddingsScope();
    const apiKey = `wrong-key-${tag()}`;
    const provider = embeddingProvider(
      { provider: "voyage", model: "voyage-3.5", dim: 1024 },
      { ...fake.settings, voyage: { ...fake.settings.voyage, apiKey } },
    );
    const error = await provider.embed(["text"], "document").catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect((error as Error).message).toBe(
      "Voyage AI embeddings request failed with 401: Provided API key is invalid.",
    );
    expect((error as Error).message).not.toContain(apiKey);
  });
});
