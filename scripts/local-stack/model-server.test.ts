import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { checks } from "./model-server/checks.ts";

// The global setup starts the model server and binds its address and key.
const bindings = env as unknown as Record<string, string | undefined>;
const server = { baseURL: bindings.ANTHROPIC_BASE_URL ?? "", apiKey: bindings.ANTHROPIC_API_KEY ?? "" };

it("the model server address is bound", () => {
  expect(server.baseURL).toMatch(/^http:\/\//);
  expect(server.apiKey).not.toBe("");
});

// The same checks model-server.check.ts runs in Node, here through the SDK inside workerd.
for (const check of checks) it(check.name, () => check.run(server));
