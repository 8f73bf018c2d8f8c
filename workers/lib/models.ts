import { z } from "zod";

/** USD per million tokens, by kind of token. */
export const priceSchema = z
  .object({
    inputPerMTok: z.number().nonnegative(),
    outputPerMTok: z.number().nonnegative(),
    /** Writing a prompt-cache entry (1.25x input on Anthropic's 5-minute cache). */
    cacheWritePerMTok: z.number().nonnegative(),
    /** Reading from the prompt cache (0.1x input). */
    cacheReadPerMTok: z.number().nonnegative(),
  })
  .strict();
export type Price = z.infer<typeof priceSchema>;

export interface ModelSpec {
  contextWindow: number;
  maxOutputTokens: number;
  price: Price;
}

const price = (input: number, output: number): Price => ({
  inputPerMTok: input,
  outputPerMTok: output,
  cacheWritePerMTok: input * 1.25,
  cacheReadPerMTok: input * 0.1,
});

/**
 * Models the platform offers, with the facts the runtime and billing need. A tenant's
 * `allowedModels` narrows the list; agent creation checks against it so an unknown model is a
 * 422 at save time, never a failure at run time. Prices are list prices and can be overridden
 * per deployment with the `MODEL_PRICES` variable (see `priceTable`).
 */
export const MODEL_CATALOG = {
  "claude-opus-4-5": { contextWindow: 200_000, maxOutputTokens: 64_000, price: price(5, 25) },
  "claude-sonnet-4-5": { contextWindow: 200_000, maxOutputTokens: 64_000, price: price(3, 15) },
  "claude-haiku-4-5": { contextWindow: 200_000, maxOutputTokens: 64_000, price: price(1, 5) },
  "claude-opus-4-1": { contextWindow: 200_000, maxOutputTokens: 32_000, price: price(15, 75) },
  "claude-sonnet-4-0": { contextWindow: 200_000, maxOutputTokens: 64_000, price: price(3, 15) },
  "claude-3-5-haiku-latest": { contextWindow: 200_000, maxOutputTokens: 8_192, price: price(0.8, 4) },
} as const satisfies Record<string, ModelSpec>;

export type PlatformModel = keyof typeof MODEL_CATALOG;

export const PLATFORM_MODELS = Object.keys(MODEL_CATALOG) as PlatformModel[];

/** The models a tenant may use: its allow-list intersected with the platform's. */
export function allowedModels(tenantAllowList: readonly string[] | undefined): string[] {
  const platform: readonly string[] = PLATFORM_MODELS;
  if (!tenantAllowList || tenantAllowList.length === 0) return [...platform];
  return tenantAllowList.filter((m) => platform.includes(m));
}

/** `MODEL_PRICES`: a JSON object of model -> price, merged over the catalog's list prices. */
export const modelPricesSchema = z.record(z.string().min(1), priceSchema);

/**
 * The price of every model in force: list prices, overridden model by model by the deployment's
 * `MODEL_PRICES` (a negotiated discount, a gateway's markup).
 *
 * @example
 * const table = priceTable(config.MODEL_PRICES);
 */
export function priceTable(overrides: Record<string, Price> | undefined): Record<string, Price> {
  const table: Record<string, Price> = {};
  for (const [model, spec] of Object.entries(MODEL_CATALOG)) table[model] = spec.price;
  return { ...table, ...overrides };
}

/** Tokens of one model call, as the provider reports them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

/**
 * What a model call cost, in micro-USD (integers, so sums over millions of calls do not
 * drift): tokens x USD per million tokens is exactly micro-USD.
 *
 * @example
 * costMicroUsd(price, { inputTokens: 1000, outputTokens: 200, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 })
 * // 3000 + 3000 = 6000 micro-USD for claude-sonnet-4-5
 */
export function costMicroUsd(p: Price, usage: TokenUsage): number {
  return Math.round(
    usage.inputTokens * p.inputPerMTok +
      usage.outputTokens * p.outputPerMTok +
      usage.cacheCreationInputTokens * p.cacheWritePerMTok +
      usage.cacheReadInputTokens * p.cacheReadPerMTok,
  );
}
