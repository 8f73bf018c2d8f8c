import type { Config, Env } from "../../env";
import type { EmbeddingFetch } from "./http";
import { localEmbeddings } from "./local";
import { OPENAI_MAX_BATCH, openAiCompatibleEmbeddings } from "./openai-compatible";
import {
  type EmbeddingChoice,
  EmbeddingError,
  type EmbeddingProvider,
  type EmbeddingProviderName,
  type EmbeddingResult,
} from "./types";
import { VOYAGE_MAX_BATCH, voyageEmbeddings } from "./voyage";
import { WORKERS_AI_MAX_BATCH, type WorkersAiBinding, workersAiEmbeddings } from "./workers-ai";

/**
 * The operator's vendor credentials and URLs. A vendor without credentials still yields a
 * provider, one whose every call fails with "not configured": a collection can be created for it
 * and the error surfaces where the work happens (a document's failure reason, a search's 422).
 */
export interface EmbeddingSettings {
  voyage: { apiKey?: string; baseUrl: string };
  openai: { apiKey?: string; baseUrl: string };
  workersAi: { binding?: WorkersAiBinding; accountId?: string; apiToken?: string; baseUrl: string };
}

/** Vendor names as messages show them. */
const VENDOR_NAMES: Record<EmbeddingProviderName, string> = {
  local: "Offline",
  voyage: "Voyage AI",
  openai: "OpenAI-compatible",
  "workers-ai": "Workers AI",
};

/**
 * Reads the embedding vendors' settings from the parsed config, and the `AI` binding from `env`.
 *
 * @example
 * const provider = embeddingProvider(collection, embeddingSettings(parseConfig(env), env));
 */
export function embeddingSettings(config: Config, env: Env): EmbeddingSettings {
  return {
    voyage: { apiKey: config.VOYAGE_API_KEY, baseUrl: config.VOYAGE_BASE_URL },
    openai: { apiKey: config.OPENAI_API_KEY, baseUrl: config.OPENAI_BASE_URL },
    workersAi: {
      // The binding's `run` is typed by literal model names; at runtime it takes any model string.
      binding: env.AI as WorkersAiBinding | undefined,
      accountId: config.CLOUDFLARE_ACCOUNT_ID,
      apiToken: config.CLOUDFLARE_API_TOKEN,
      baseUrl: config.WORKERS_AI_BASE_URL,
    },
  };
}

/**
 * The provider for a collection's model. Every call is checked: one vector per text, each
 * exactly `choice.dim` finite numbers, so a model that answers another size (a wrong model name,
 * a server ignoring `dimensions`) fails the document instead of corrupting the index.
 *
 * @throws nothing itself; `embed` throws EmbeddingError: not retryable for "not configured", a
 *   wrong vector count or size, or a refused request; retryable for rate limits, 5xx and network errors.
 * @example
 * const provider = embeddingProvider({ provider: "voyage", model: "voyage-3.5", dim: 1024 }, settings);
 * const { vectors } = await embedInBatches(provider, chunks, "document");
 */
export function embeddingProvider(
  choice: EmbeddingChoice,
  settings: EmbeddingSettings,
  fetchImpl: EmbeddingFetch = (url, init) => fetch(url, init),
): EmbeddingProvider {
  return checked(vendorProvider(choice, settings, fetchImpl));
}

function vendorProvider(
  choice: EmbeddingChoice,
  settings: EmbeddingSettings,
  fetchImpl: EmbeddingFetch,
): EmbeddingProvider {
  const { model, dim } = choice;
  switch (choice.provider) {
    case "local":
      return localEmbeddings(dim, model);
    case "voyage": {
      const { apiKey, baseUrl } = settings.voyage;
      if (!apiKey) return notConfigured(choice, VOYAGE_MAX_BATCH, "set VOYAGE_API_KEY");
      return voyageEmbeddings(model, dim, { apiKey, baseUrl }, fetchImpl);
    }
    case "openai": {
      const { apiKey, baseUrl } = settings.openai;
      if (!apiKey) return notConfigured(choice, OPENAI_MAX_BATCH, "set OPENAI_API_KEY");
      return openAiCompatibleEmbeddings(model, dim, { apiKey, baseUrl }, fetchImpl);
    }
    case "workers-ai": {
      const { binding, accountId, apiToken, baseUrl } = settings.workersAi;
      if (!binding && !(accountId && apiToken)) {
        return notConfigured(
          choice,
          WORKERS_AI_MAX_BATCH,
          'add an `[ai] binding = "AI"`, or set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN',
        );
      }
      return workersAiEmbeddings(
        model,
        dim,
        { binding, accountId: accountId ?? "", apiToken: apiToken ?? "", baseUrl },
        fetchImpl,
      );
    }
  }
}

function notConfigured(choice: EmbeddingChoice, maxBatch: number, fix: string): EmbeddingProvider {
  const error = new EmbeddingError(
    `${VENDOR_NAMES[choice.provider]} embeddings are not configured: ${fix}`,
    false,
  );
  return {
    ...choice,
    maxBatch,
    async embed() {
      throw error;
    },
  };
}

function checked(inner: EmbeddingProvider): EmbeddingProvider {
  const { provider, model, dim, maxBatch } = inner;
  const fail = (what: string) =>
    new EmbeddingError(`${VENDOR_NAMES[provider]} model "${model}" ${what}`, false);
  return {
    provider,
    model,
    dim,
    maxBatch,
    async embed(texts, purpose): Promise<EmbeddingResult> {
      if (texts.length === 0) return { vectors: [], tokens: 0 };
      if (texts.length > maxBatch) {
        throw fail(`takes at most ${maxBatch} texts per call, not ${texts.length}: use embedInBatches`);
      }
      const result = await inner.embed(texts, purpose);
      if (result.vectors.length !== texts.length) {
        throw fail(`returned ${result.vectors.length} vectors for ${texts.length} texts`);
      }
      for (const vector of result.vectors) {
        if (vector.length !== dim) {
          throw fail(`returned ${vector.length}-dimensional vectors; the collection expects ${dim}`);
        }
        if (!vector.every(Number.isFinite)) throw fail("returned a vector with a non-finite number");
      }
      return result;
    },
  };
}
