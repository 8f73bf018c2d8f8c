import { describe, expect, test } from "vitest";
import { chunkingSettingsSchema, DEFAULT_CHUNKING } from "./settings";

describe("chunkingSettingsSchema", () => {
  test("fills in the defaults", () => {
    expect(DEFAULT_CHUNKING).toEqual({ chunkTokens: 400, overlapTokens: 50, parentTokens: 1600 });
    expect(chunkingSettingsSchema.parse({ chunkTokens: 200 })).toEqual({
      chunkTokens: 200,
      overlapTokens: 50,
      parentTokens: 1600,
    });
  });

  test("accepts null parentTokens for flat chunks, and the edges of each range", () => {
    expect(chunkingSettingsSchema.parse({ parentTokens: null }).parentTokens).toBeNull();
    expect(
      chunkingSettingsSchema.parse({ chunkTokens: 64, overlapTokens: 0, parentTokens: 256 }),
    ).toMatchObject({
      chunkTokens: 64,
    });
    expect(
      chunkingSettingsSchema.parse({ chunkTokens: 2048, overlapTokens: 512, parentTokens: 8192 }),
    ).toMatchObject({
      chunkTokens: 2048,
    });
  });

  test.each([
    ["chunkTokens below 64", { chunkTokens: 63 }, "chunkTokens"],
    ["chunkTokens above 2048", { chunkTokens: 2049, parentTokens: 8192 }, "chunkTokens"],
    ["a fractional chunkTokens", { chunkTokens: 100.5 }, "chunkTokens"],
    ["a string chunkTokens", { chunkTokens: "400" }, "chunkTokens"],
    ["negative overlapTokens", { overlapTokens: -1 }, "overlapTokens"],
    ["overlapTokens above 512", { chunkTokens: 1000, overlapTokens: 513 }, "overlapTokens"],
    ["overlapTokens equal to chunkTokens", { chunkTokens: 100, overlapTokens: 100 }, "overlapTokens"],
    ["overlapTokens above chunkTokens", { chunkTokens: 100, overlapTokens: 200 }, "overlapTokens"],
    ["parentTokens below 256", { parentTokens: 255 }, "parentTokens"],
    ["parentTokens above 8192", { parentTokens: 8193 }, "parentTokens"],
    ["parentTokens equal to chunkTokens", { chunkTokens: 512, parentTokens: 512 }, "parentTokens"],
    ["parentTokens below chunkTokens", { chunkTokens: 1024, parentTokens: 512 }, "parentTokens"],
  ])("rejects %s", (_label, input, path) => {
    const result = chunkingSettingsSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(path);
  });

  test("rejects unknown keys", () => {
    const result = chunkingSettingsSchema.safeParse({ chunkSize: 400 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.code).toBe("unrecognized_keys");
  });
});
