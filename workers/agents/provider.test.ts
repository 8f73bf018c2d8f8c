import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../env";
import { ApiError } from "../lib/errors";
import { providerFor } from "./provider";

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
