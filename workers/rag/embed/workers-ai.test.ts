import { describe, expect, it } from "vitest";
import { estimateTokens } from "../chunk/tokens";
import { embedInBatches } from "./batches";
import { hashedVector } from "./local";
import { embeddingProvider } from "./provider";
import { fakeEmbeddingsScope } from "./test-fixtures";
import type { EmbeddingChoice } from "./types";
import type { WorkersAiBinding } from "./workers-ai";

const tag = () => crypto.randomUUID().slice(0, 8);
const small: EmbeddingChoice = { provider: "workers-ai", model: "@cf/baai/bge-small-en-v1.5", dim: 384 };

/** Stands in for `env.AI`, which has no local emulation: records calls, answers like the binding. */
function fakeBinding(answer: (model: string, texts: string[]) => unknown) {
  const calls: Array<{ model: string; text: string[] }> = [];
  const binding: WorkersAiBinding = {
    async run(model, inputs) {
      calls.push({ model, text: inputs.text });
      return answer(model, inputs.text);
    },
  };
  return { binding, calls };
}

const bgeAnswer = (dim: number) => (_model: string, texts: string[]) => ({
  shape: [texts.length, dim],
  data: texts.map((t) => hashedVector(t, dim)),
});

describe("Workers AI embeddings through the REST API", () => {
  it("posts the texts to the account's model URL with the API token", async () => {
    const fake = fakeEmbeddingsScope();
    const texts = [`a passage about indexes ${tag()}`, "another passage"];

    const result = await embeddingProvider(small, fake.settings).embed(texts, "document");

    expect(result.vectors).toEqual(texts.map((t) => hashedVector(t, 384)));
    // Workers AI reports no tokens: our estimate stands in.
    expect(result.tokens).toBe(texts.reduce((sum, t) => sum + estimateTokens(t), 0));
    const [request] = await fake.requests("workers-ai");
    expect(request?.path).toBe("/client/v4/accounts/test-account/ai/run/@cf/baai/bge-small-en-v1.5");
    expect(request?.headers.authorization).toBe(`Bearer ${fake.settings.workersAi.apiToken}`);
    expect(request?.body).toEqual({ text: texts });
  });

  it("sends at most 100 texts per call", async () => {
    const fake = fakeEmbeddingsScope();
    const texts = Array.from({ length: 150 }, (_, i) => `text ${i} ${tag()}`);
    const { vectors } = await embedInBatches(embeddingProvider(small, fake.settings), texts, "document");
    expect(vectors).toHaveLength(150);
    const requests = await fake.requests("workers-ai");
    expect(requests.map((r) => (r.body as { text: string[] }).text.length)).toEqual([100, 50]);
  });

  it("an unknown model fails for good with Cloudflare's reason", async () => {
    const fake = fakeEmbeddingsScope();
    const choice: EmbeddingChoice = { provider: "workers-ai", model: "@cf/nobody/no-such-model", dim: 768 };
    const error = await embeddingProvider(choice, fake.settings)
      .embed(["text"], "document")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect((error as Error).message).toContain("No such model @cf/nobody/no-such-model or task");
  });

  it("refuses a model name that would leave the AI run path, without a request", async () => {
    const fake = fakeEmbeddingsScope();
    const choice: EmbeddingChoice = { provider: "workers-ai", model: "@cf/../../../../zones", dim: 768 };
    const error = await embeddingProvider(choice, fake.settings)
      .embed(["text"], "document")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toContain("is not a Workers AI model name");
    expect(await fake.requests("workers-ai")).toEqual([]);
  });
});

describe("Workers AI embeddings through the AI binding", () => {
  it("runs the model on the binding instead of calling the REST API", async () => {
    const fake = fakeEmbeddingsScope();
    const { binding, calls } = fakeBinding(bgeAnswer(768));
    const settings = { ...fake.settings, workersAi: { ...fake.settings.workersAi, binding } };
    const choice: EmbeddingChoice = { provider: "workers-ai", model: "@cf/baai/bge-base-en-v1.5", dim: 768 };
    const texts = ["one", "two"];

    const { vectors } = await embeddingProvider(choice, settings).embed(texts, "query");

    expect(vectors).toEqual(texts.map((t) => hashedVector(t, 768)));
    expect(calls).toEqual([{ model: "@cf/baai/bge-base-en-v1.5", text: texts }]);
    expect(await fake.requests("workers-ai")).toEqual([]);
  });

  it("needs no account or token when the binding is there", async () => {
    const { binding } = fakeBinding(bgeAnswer(384));
    const settings = {
      voyage: { baseUrl: "http://127.0.0.1:9" },
      openai: { baseUrl: "http://127.0.0.1:9" },
      workersAi: { binding, baseUrl: "http://127.0.0.1:9" },
    };
    const { vectors } = await embeddingProvider(small, settings).embed(["text"], "document");
    expect(vectors).toHaveLength(1);
  });

  it.each([
    ["AiError: 3040: Capacity temporarily exceeded, please try again.", true],
    ["InferenceUpstreamError: 3007: Request timeout", true],
    ["AiError: 5007: No such model @cf/baai/bge-nope or task", false],
    ["AiError: 5006: Type mismatch of '/text'", false],
  ])("maps the binding's error %j to retryable=%s", async (message, retryable) => {
    const { binding } = fakeBinding(() => {
      throw new Error(message);
    });
    const fake = fakeEmbeddingsScope();
    const settings = { ...fake.settings, workersAi: { ...fake.settings.workersAi, binding } };
    const error = await embeddingProvider(small, settings)
      .embed(["text"], "document")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "EmbeddingError", retryable });
    expect((error as Error).message).toBe(`Workers AI embeddings failed: ${message}`);
  });

  it("refuses an answer with a vector missing", async () => {
    const { binding } = fakeBinding((_model, texts) => ({
      shape: [1, 384],
      data: [hashedVector(texts[0] ?? "", 384)],
    }));
    const fake = fakeEmbeddingsScope();
    const settings = { ...fake.settings, workersAi: { ...fake.settings.workersAi, binding } };
    const error = await embeddingProvider(small, settings)
      .embed(["one", "two"], "document")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      retryable: false,
      message: 'Workers AI model "@cf/baai/bge-small-en-v1.5" returned 1 vectors for 2 texts',
    });
  });
});
