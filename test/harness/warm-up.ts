import { exports } from "cloudflare:workers";
import { beforeAll } from "vitest";

/**
 * Loads the Worker's modules (the MCP and Anthropic SDKs among them) before a file's first
 * test, so that test's own timeout measures the test, not the module graph's first load,
 * which takes seconds on a busy machine.
 */
beforeAll(async () => {
  const res = await exports.default.fetch(new Request("https://api.meridian.test/health"));
  await res.arrayBuffer();
}, 120_000);
