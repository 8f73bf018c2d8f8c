import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../env";
import { ApiError } from "./errors";
import { allowedModels, costMicroUsd, MODEL_CATALOG, modelSpec, PLATFORM_MODELS, priceTable } from "./models";

const usage = (input: number, output: number, cacheWrite = 0, cacheRead = 0) => ({
  inputTokens: input,
  outputTokens: output,
  cacheCreationInputTokens: cacheWrite,
  cacheReadInputTokens: cacheRead,
});

describe("model catalog and prices", () => {
  it("prices each kind of token, in whole micro-USD", () => {
    const sonnet = MODEL_CATALOG["claude-sonnet-4-5"].price;
    expect(costMicroUsd(sonnet, usage(1_000, 200))).toBe(3_000 + 3_000);
    // Cache writes cost 1.25x input and reads 0.1x: a cached prefix makes a repeat run cheaper.
    expect(costMicroUsd(sonnet, usage(100, 200, 10_000, 0))).toBe(300 + 3_000 + 37_500);
    expect(costMicroUsd(sonnet, usage(100, 200, 0, 10_000))).toBe(300 + 3_000 + 3_000);
    expect(costMicroUsd(MODEL_CATALOG["claude-3-5-haiku-latest"].price, usage(1, 1, 1, 1))).toBe(
      Math.round(0.8 + 4 + 1 + 0.08),
    );
  });

  it("takes per-deployment prices from MODEL_PRICES over the list prices", () => {
    const override = { inputPerMTok: 2, outputPerMTok: 10, cacheWritePerMTok: 2.5, cacheReadPerMTok: 0.2 };
    const config = parseConfig({
      ...env,
      MODEL_PRICES: JSON.stringify({ "claude-sonnet-4-5": override }),
    } as typeof env);
    const table = priceTable(config.MODEL_PRICES);
    expect(table["claude-sonnet-4-5"]).toEqual(override);
    expect(table["claude-haiku-4-5"]).toEqual(MODEL_CATALOG["claude-haiku-4-5"].price);
    expect(Object.keys(priceTable(undefined)).sort()).toEqual([...PLATFORM_MODELS].sort());
  });

  it.each([
    ["not json"],
    [JSON.stringify({ m: { inputPerMTok: -1 } })],
    [JSON.stringify({ m: { inputPerMTok: 1 } })],
  ])("refuses a malformed MODEL_PRICES (%s) as a configuration error", (value) => {
    let error: unknown;
    try {
      parseConfig({ ...env, MODEL_PRICES: value } as typeof env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("BAD_ENVIRONMENT");
    expect((error as ApiError).message).toContain("MODEL_PRICES");
  });

  it("narrows the platform's models to a tenant's allow-list, ignoring unknown names", () => {
    expect(allowedModels(undefined)).toEqual(PLATFORM_MODELS);
    expect(allowedModels(["claude-haiku-4-5", "gpt-9"])).toEqual(["claude-haiku-4-5"]);
  });

  it("knows each model's minimum cacheable prompt, which differs by model", () => {
    for (const model of PLATFORM_MODELS) {
      expect(MODEL_CATALOG[model].minCacheableTokens, model).toBeGreaterThanOrEqual(512);
    }
    expect(modelSpec("claude-sonnet-4-5")?.minCacheableTokens).toBe(1024);
    expect(modelSpec("claude-haiku-4-5")?.minCacheableTokens).toBe(4096);
    expect(modelSpec("claude-opus-4-5")?.minCacheableTokens).toBe(4096);
    expect(modelSpec("claude-3-5-haiku-latest")?.minCacheableTokens).toBe(2048);
    expect(modelSpec("claude-opus-5-5")?.minCacheableTokens).toBe(512);
  });

  it("looks a model up by name, and answers undefined for one the platform does not offer", () => {
    expect(modelSpec("claude-sonnet-4-6")).toBe(MODEL_CATALOG["claude-sonnet-4-6"]);
    expect(modelSpec("gpt-9")).toBeUndefined();
    expect(modelSpec("toString")).toBeUndefined();
  });

  it("marks the models the SDK deprecates with their end-of-life date, and no others", () => {
    const deprecated = Object.fromEntries(
      PLATFORM_MODELS.flatMap((m) => {
        const eol = modelSpec(m)?.deprecated;
        return eol ? [[m, eol]] : [];
      }),
    );
    expect(deprecated).toEqual({ "claude-opus-4-5": "2027-01-22", "claude-sonnet-4-5": "2026-11-30" });
  });

  it("prices the newer models' cheaper cache reads as listed, not as 0.1x input", () => {
    expect(MODEL_CATALOG["claude-opus-5-5"].price).toEqual({
      inputPerMTok: 4,
      outputPerMTok: 20,
      cacheWritePerMTok: 5,
      cacheReadPerMTok: 0.2,
    });
    expect(costMicroUsd(MODEL_CATALOG["claude-sonnet-5-5"].price, usage(0, 0, 0, 10_000))).toBe(1_000);
  });
});
