import { describe, expect, it } from "vitest";
import { type BatchProgress, embedInBatches, MAX_BATCH_CHARS, planBatches } from "./batches";
import { hashedVector } from "./local";
import { embeddingProvider } from "./provider";
import { fakeEmbeddingsScope } from "./test-fixtures";
import { type EmbeddingChoice, EmbeddingError } from "./types";

const tag = () => crypto.randomUUID().slice(0, 8);
const voyage: EmbeddingChoice = { provider: "voyage", model: "voyage-3.5-lite", dim: 1024 };

function setup() {
  const fake = fakeEmbeddingsScope();
  const provider = embeddingProvider(voyage, fake.settings);
  const statuses = async () => (await fake.requests("voyage")).map((r) => r.status);
  const inputs = async () =>
    (await fake.requests("voyage")).map((r) => (r.body as { input: string[] }).input);
  return { fake, provider, statuses, inputs };
}

describe("planBatches", () => {
  it("cuts at the provider's batch size and at the character cap", () => {
    expect(planBatches(["a", "b", "c", "d", "e"], 2, 100)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(planBatches(["aaaa", "bbbb", "cccc"], 10, 9)).toEqual([
      [0, 2],
      [2, 3],
    ]);
    expect(planBatches([], 10, 100)).toEqual([]);
  });

  it("sends a text longer than the cap on its own", () => {
    expect(planBatches(["a", "x".repeat(50), "b"], 10, 10)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });
});

describe("embedInBatches", () => {
  it("splits 300 texts into 3 Voyage calls of at most 128, in order, and reports progress", async () => {
    const { provider, inputs } = setup();
    const texts = Array.from({ length: 300 }, (_, i) => `text number ${i} ${tag()}`);
    const progress: BatchProgress[] = [];

    const result = await embedInBatches(provider, texts, "document", {
      onBatch: (p) => void progress.push(p),
    });

    expect(result.vectors).toEqual(texts.map((t) => hashedVector(t, 1024)));
    expect(result.tokens).toBe(300 * 4);
    expect((await inputs()).map((batch) => batch.length)).toEqual([128, 128, 44]);
    expect(progress).toEqual([
      { batch: 1, batches: 3, embedded: 128, total: 300, tokens: 128 * 4 },
      { batch: 2, batches: 3, embedded: 256, total: 300, tokens: 256 * 4 },
      { batch: 3, batches: 3, embedded: 300, total: 300, tokens: 300 * 4 },
    ]);
  });

  it("keeps each call under the character cap", async () => {
    const { provider, inputs } = setup();
    const long = (c: string) => `${c.repeat(MAX_BATCH_CHARS * 0.4)} ${tag()}`;
    await embedInBatches(provider, [long("a"), long("b"), long("c")], "document");
    expect((await inputs()).map((batch) => batch.length)).toEqual([2, 1]);
  });

  it("retries a call that failed with 500, and only that call", async () => {
    const { provider, statuses, inputs } = setup();
    const texts = Array.from({ length: 200 }, (_, i) => `text ${i} ${tag()}`);
    texts[150] = `flaky [[fail-500]] ${tag()}`;

    const { vectors } = await embedInBatches(provider, texts, "document");

    expect(vectors).toEqual(texts.map((t) => hashedVector(t, 1024)));
    expect(await statuses()).toEqual([200, 500, 200]);
    expect((await inputs()).map((batch) => batch.length)).toEqual([128, 72, 72]);
  });

  it("waits out a short Retry-After on 429", async () => {
    const { provider, statuses } = setup();
    const started = Date.now();
    const { vectors } = await embedInBatches(provider, [`busy [[fail-429]] ${tag()}`], "document");
    expect(vectors).toHaveLength(1);
    expect(await statuses()).toEqual([429, 200]);
    // Retry-After: 1. Backoff alone would have waited at most 250 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("leaves a long Retry-After to the queue: rethrown at once, with the wait", async () => {
    const { provider, statuses } = setup();
    const error = await embedInBatches(provider, [`busy [[fail-429-long]] ${tag()}`], "document").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 60_000 });
    expect(await statuses()).toEqual([429]);
  });

  it("gives up after 3 calls with a retryable error", async () => {
    const { provider, statuses } = setup();
    const error = await embedInBatches(provider, [`down [[fail-always]] ${tag()}`], "document").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error).toMatchObject({
      retryable: true,
      message:
        "Voyage AI embeddings request failed with 500: The server had an error while processing your request.",
    });
    expect(await statuses()).toEqual([500, 500, 500]);
  });

  it("does not retry a refused key", async () => {
    const { fake, statuses } = setup();
    const apiKey = `wrong-${tag()}`;
    const provider = embeddingProvider(voyage, {
      ...fake.settings,
      voyage: { ...fake.settings.voyage, apiKey },
    });
    const error = await embedInBatches(provider, ["text"], "document").catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect((error as Error).message).not.toContain(apiKey);
    expect(await statuses()).toEqual([401]);
  });

  it("does not retry vectors of the wrong size", async () => {
    const { provider, statuses } = setup();
    const error = await embedInBatches(provider, [`short [[bad-dim]] ${tag()}`], "document").catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      retryable: false,
      message:
        'Voyage AI model "voyage-3.5-lite" returned 1023-dimensional vectors; the collection expects 1024',
    });
    expect(await statuses()).toEqual([200]);
  });
});
