import { z } from "zod";
import type { EmbeddingDim } from "../../../db/schema/rag";
import { type EmbeddingFetch, joinUrl, postEmbeddingJson } from "./http";
import { reportedOrEstimated, unexpectedBody } from "./response";
import { EmbeddingError, type EmbeddingProvider, type EmbeddingResult } from "./types";

/**
 * The part of the `AI` binding this uses. The binding's own type keys `run` by literal model
 * names; a collection's model is a runtime string, so provider.ts adapts `env.AI` to this.
 */
export interface WorkersAiBinding {
  run(model: string, inputs: { text: string[] }): Promise<unknown>;
}

export interface WorkersAiSettings {
  /** Preferred when present: no token to manage, and no extra hop through the public API. */
  binding?: WorkersAiBinding;
  accountId: string;
  apiToken: string;
  /** e.g. `https://api.cloudflare.com`; requests go to `<baseUrl>/client/v4/accounts/<id>/ai/run/<model>`. */
  baseUrl: string;
}

/** Texts per call that Workers AI's text-embedding models accept. */
export const WORKERS_AI_MAX_BATCH = 100;

const VENDOR = "Workers AI";

const embeddingsSchema = z.object({
  shape: z.array(z.number()),
  data: z.array(z.array(z.number())),
});
const restEnvelopeSchema = z.object({ result: embeddingsSchema, success: z.literal(true) });

/**
 * `@cf/<author>/<name>`. The model is part of the REST URL, and a collection's model comes from a
 * tenant: segments must start with a letter or digit, so no `..` can walk the operator's token
 * over to another Cloudflare API endpoint.
 */
const WORKERS_AI_MODEL = /^@[a-z0-9-]+(\/[a-z0-9][a-z0-9._-]*)+$/i;

/**
 * Workers AI internal codes that a retry repeats: unknown or invalid model, invalid or too large
 * input (5006, input validation, is not in the table but is what a malformed input gets), account
 * not allowed, model terms not accepted. Others (timeouts, 3040 out of capacity, 3036 daily
 * allocation used up, internal errors) may pass later. See
 * https://developers.cloudflare.com/workers-ai/platform/errors/.
 */
const PERMANENT_CODES = new Set([
  3003, 3006, 3023, 3039, 3041, 3042, 5004, 5005, 5006, 5007, 5016, 5018, 5019,
]);

/**
 * Cloudflare Workers AI text embeddings (`@cf/baai/bge-*`), through the `AI` binding when the
 * Worker has one, else through the REST API with an account id and API token. These models
 * embed queries and documents alike, so `purpose` is not sent.
 *
 * @example
 * const bge = workersAiEmbeddings("@cf/baai/bge-small-en-v1.5", 384, { binding: env.AI, accountId, apiToken, baseUrl }, fetch);
 * const { vectors } = await bge.embed(["a passage"], "document");
 */
export function workersAiEmbeddings(
  model: string,
  dim: EmbeddingDim,
  settings: WorkersAiSettings,
  fetchImpl: EmbeddingFetch,
): EmbeddingProvider {
  const { binding } = settings;
  const modelRefusal = WORKERS_AI_MODEL.test(model)
    ? undefined
    : new EmbeddingError(`"${model}" is not a Workers AI model name (like @cf/baai/bge-base-en-v1.5)`, false);
  const url = joinUrl(
    settings.baseUrl,
    `/client/v4/accounts/${encodeURIComponent(settings.accountId)}/ai/run/${model}`,
  );
  return {
    provider: "workers-ai",
    model,
    dim,
    maxBatch: WORKERS_AI_MAX_BATCH,
    async embed(texts): Promise<EmbeddingResult> {
      if (modelRefusal) throw modelRefusal;
      const vectors = binding
        ? await runBinding(binding, model, texts)
        : await runRest(url, settings.apiToken, texts, fetchImpl);
      // Neither way reports tokens; Workers AI bills them as neurons, so count our estimate.
      return { vectors, tokens: reportedOrEstimated(undefined, texts) };
    },
  };
}

async function runBinding(binding: WorkersAiBinding, model: string, texts: string[]): Promise<number[][]> {
  let output: unknown;
  try {
    output = await binding.run(model, { text: texts });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = Number(/\b([35]\d{3})\b/.exec(message)?.[1]);
    throw new EmbeddingError(
      `${VENDOR} embeddings failed: ${message.slice(0, 300)}`,
      !PERMANENT_CODES.has(code),
    );
  }
  const parsed = embeddingsSchema.safeParse(output);
  if (!parsed.success) throw unexpectedBody(VENDOR, parsed.error);
  return parsed.data.data;
}

async function runRest(url: string, apiToken: string, texts: string[], fetchImpl: EmbeddingFetch) {
  const json = await postEmbeddingJson({
    vendor: VENDOR,
    url,
    token: apiToken,
    body: { text: texts },
    fetchImpl,
  });
  const parsed = restEnvelopeSchema.safeParse(json);
  if (!parsed.success) throw unexpectedBody(VENDOR, parsed.error);
  return parsed.data.result.data;
}
