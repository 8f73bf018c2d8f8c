import { z } from "zod";

/** USD per million tokens, by kind of token. */
export const priceSchema = z
  .object({
    inputPerMTok: z.number().nonnegative(),
    outputPerMTok: z.number().nonnegative(),
    /** Writing a prompt-cache entry (1.25x input on Anthropic's 5-minute cache). */
    cacheWritePerMTok: z.number().nonnegative(),
    /** Reading from the prompt cache (0.1x input on most models, 0.05x on the 5.5 generation). */
    cacheReadPerMTok: z.number().nonnegative(),
  })
  .strict();
export type Price = z.infer<typeof priceSchema>;

export interface ModelSpec {
  contextWindow: number;
  maxOutputTokens: number;
  /**
   * The shortest prompt prefix (tools, system, messages up to a breakpoint) the provider will
   * cache. A `cache_control` breakpoint on a shorter prefix is silently not cached, so the run
   * engine places breakpoints only past this length.
   */
  minCacheableTokens: number;
  price: Price;
  /**
   * End-of-life date (YYYY-MM-DD) of a model the SDK marks deprecated: it still answers, but the
   * SDK warns on every call, and after this date the provider refuses it. Kept in the catalog
   * because tenants may have agents on it.
   */
  deprecated?: string;
}

/** List price with Anthropic's usual cache multipliers: 5-minute write 1.25x input, read 0.1x. */
const price = (input: number, output: number): Price => ({
  inputPerMTok: input,
  outputPerMTok: output,
  cacheWritePerMTok: input * 1.25,
  cacheReadPerMTok: input * 0.1,
});

/** List price for models whose cache read is not 0.1x input (newer models read cheaper). */
const priceWithCache = (input: number, output: number, cacheWrite: number, cacheRead: number): Price => ({
  inputPerMTok: input,
  outputPerMTok: output,
  cacheWritePerMTok: cacheWrite,
  cacheReadPerMTok: cacheRead,
});

/**
 * Models the platform offers, with the facts the runtime and billing need. A tenant's
 * `allowedModels` narrows the list; agent creation checks against it so an unknown model is a
 * 422 at save time, never a failure at run time. Prices are list prices and can be overridden
 * per deployment with the `MODEL_PRICES` variable (see `priceTable`).
 *
 * Sources (stored copies of the provider's docs, read 2026-11-26):
 * - context window, max output and price: each model's page,
 *   https://platform.claude.com/docs/en/models/<model>/overview, and
 *   https://platform.claude.com/docs/en/about-claude/pricing;
 * - minimum cacheable length: https://platform.claude.com/docs/en/build-with-claude/prompt-caching#cache-limitations
 *   (4096 for Opus 4.5/4.6 and Haiku 4.5; 1024 for Sonnet 4.x and Opus 4.x up to 4.1; 2048 for
 *   Haiku 3.5, as quoted in https://github.com/anthropics/anthropic-sdk-python/issues/1194), and
 *   the newer models' notes: 1024 on Opus 4.8
 *   (https://platform.claude.com/docs/en/about-claude/models/whats-new-claude-4-8), 512 on Opus 5
 *   and Opus 5.5 (https://platform.claude.com/docs/en/models/opus-5-5/migration-guide, "down from
 *   1,024 tokens on Claude Opus 4.8"), 512 on Sonnet 5.5 (secondary: a summary of the caching page
 *   as of October 2026);
 * - deprecations: the SDK's own table (`@anthropic-ai/sdk/internal/data/deprecated-models.js`),
 *   which warns on every call to these models.
 *
 * Not listed: claude-haiku-5-5, priced by prompt length ($0.10/$0.50 up to 100K prompt tokens,
 * $0.50/$2.50 above, per https://platform.claude.com/docs/en/models/haiku-5-5/overview), which one
 * flat `Price` cannot bill correctly; and models whose facts the sources disagree on.
 */
export const MODEL_CATALOG = {
  // https://platform.claude.com/docs/en/models/opus-5-5/overview: $4/$20, 5m write $5, read $0.20.
  "claude-opus-5-5": {
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    minCacheableTokens: 512,
    price: priceWithCache(4, 20, 5, 0.2),
  },
  // https://platform.claude.com/docs/en/models/sonnet-5-5/overview: $2/$10, 5m write $2.50. The
  // cache read was cut from $0.20 to $0.10 on 2026-10-07 (the pricing page as quoted by several
  // price trackers; the stored model page predates the cut and still shows $0.20).
  "claude-sonnet-5-5": {
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    minCacheableTokens: 512,
    price: priceWithCache(2, 10, 2.5, 0.1),
  },
  // https://platform.claude.com/docs/en/models/opus-5/overview: $5/$25, 5m write $6.25, read $0.50.
  "claude-opus-5": {
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    minCacheableTokens: 512,
    price: price(5, 25),
  },
  // https://platform.claude.com/docs/en/models/opus-4-8/overview: $5/$25; 1,024-token cache minimum
  // per https://platform.claude.com/docs/en/about-claude/models/whats-new-claude-4-8.
  "claude-opus-4-8": {
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    minCacheableTokens: 1024,
    price: price(5, 25),
  },
  // https://platform.claude.com/docs/en/models/opus-4-6/overview: $5/$25.
  "claude-opus-4-6": {
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    minCacheableTokens: 4096,
    price: price(5, 25),
  },
  // https://platform.claude.com/docs/zh-CN/models/sonnet-4-6/overview.md (English fact line): $3/$15.
  "claude-sonnet-4-6": {
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    minCacheableTokens: 1024,
    price: price(3, 15),
  },
  "claude-opus-4-5": {
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    minCacheableTokens: 4096,
    price: price(5, 25),
    deprecated: "2027-01-22",
  },
  "claude-sonnet-4-5": {
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    minCacheableTokens: 1024,
    price: price(3, 15),
    deprecated: "2026-11-30",
  },
  "claude-haiku-4-5": {
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    minCacheableTokens: 4096,
    price: price(1, 5),
  },
  "claude-opus-4-1": {
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    minCacheableTokens: 1024,
    price: price(15, 75),
  },
  "claude-sonnet-4-0": {
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    minCacheableTokens: 1024,
    price: price(3, 15),
  },
  "claude-3-5-haiku-latest": {
    contextWindow: 200_000,
    maxOutputTokens: 8_192,
    minCacheableTokens: 2048,
    price: price(0.8, 4),
  },
} as const satisfies Record<string, ModelSpec>;

export type PlatformModel = keyof typeof MODEL_CATALOG;

export const PLATFORM_MODELS = Object.keys(MODEL_CATALOG) as PlatformModel[];

/**
 * The catalog's facts for a model, or undefined for one the platform does not offer. Takes any
 * string because model names arrive from stored agents and requests, not from the type system.
 *
 * @example
 * const spec = modelSpec(agent.model);
 * if (spec?.deprecated) logger.warn("model reaches end of life", { model: agent.model, on: spec.deprecated });
 */
export function modelSpec(model: string): ModelSpec | undefined {
  return Object.hasOwn(MODEL_CATALOG, model) ? MODEL_CATALOG[model as PlatformModel] : undefined;
}

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
