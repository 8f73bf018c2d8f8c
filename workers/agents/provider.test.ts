import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../env";
import { ApiError } from "../lib/errors";
import { providerFor, providerKind } from "./provider";

describe("model provider client", () => {
  it("reaches the configured provider (here the local model server) with the real SDK", async () => {
    const client = providerFor(parseConfig(env));
    const message = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 64,
      messages: [{ role: "user", content: "hello from the Worker" }],
    });
    expect(message.role).toBe("assistant");
    expect(message.content[0]).toMatchObject({ type: "text", text: "Echo: hello from the Worker" });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(providerFor(parseConfig(env))).toBe(client);
  });

  it("is a configuration error without a key", () => {
    const config = parseConfig({ ...env, ANTHROPIC_API_KEY: undefined } as unknown as typeof env);
    expect(() => providerFor(config)).toThrow(ApiError);
  });
});

describe("provider configuration", () => {
  it("refuses a production configuration without ANTHROPIC_API_KEY", () => {
    const production = {
      ...env,
      ENVIRONMENT: "production",
      ANTHROPIC_API_KEY: undefined,
    } as unknown as typeof env;
    expect(() => parseConfig(production)).toThrow(/ANTHROPIC_API_KEY/);
  });

  it("names who answers model calls", () => {
    expect(providerKind({ ANTHROPIC_BASE_URL: undefined })).toBe("anthropic");
    expect(providerKind({ ANTHROPIC_BASE_URL: "https://api.anthropic.com" })).toBe("anthropic");
    expect(providerKind({ ANTHROPIC_BASE_URL: "http://127.0.0.1:8790" })).toBe("local");
    expect(
      providerKind({ ANTHROPIC_BASE_URL: "https://gateway.ai.cloudflare.com/v1/acct/gw/anthropic" }),
    ).toBe("gateway");
  });
});
