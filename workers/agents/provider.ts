import Anthropic from "@anthropic-ai/sdk";
import type { Config } from "../env";
import { ApiError } from "../lib/errors";

const clients = new Map<string, Anthropic>();

/**
 * The model provider's client for this isolate: Anthropic, or whatever `ANTHROPIC_BASE_URL`
 * names (Cloudflare AI Gateway, a company proxy, the local model server). The SDK talks HTTP
 * through `fetch` and holds no socket, so one client may serve many requests. Retries are
 * left to the caller, which knows the run's time limit.
 *
 * @throws ApiError BAD_ENVIRONMENT when no key is configured.
 * @example
 * const message = await providerFor(config).messages.create({ model, max_tokens, messages });
 */
export function providerFor(config: Pick<Config, "ANTHROPIC_API_KEY" | "ANTHROPIC_BASE_URL">): Anthropic {
  const apiKey = config.ANTHROPIC_API_KEY;
  if (!apiKey) {
    throw new ApiError("BAD_ENVIRONMENT", { detail: "ANTHROPIC_API_KEY is not configured." });
  }
  const key = `${config.ANTHROPIC_BASE_URL ?? ""}|${apiKey}`;
  let client = clients.get(key);
  if (!client) {
    client = new Anthropic({
      apiKey,
      baseURL: config.ANTHROPIC_BASE_URL ?? null,
      maxRetries: 0,
      // The SDK's own spans for model calls (docs/tracing.md): metadata only, never prompts or
      // answers; no trace context sent to the provider.
      openTelemetry: { propagation: false, traces: { enabled: true, contentMode: "metadata_only" } },
    });
    clients.set(key, client);
  }
  return client;
}

/**
 * Who answers model calls, as execute responses report it (`Meridian-Model-Provider`):
 * `anthropic`, a `local` model server (development without a key) or a `gateway` (AI Gateway,
 * a company proxy).
 */
export function providerKind(config: Pick<Config, "ANTHROPIC_BASE_URL">): "anthropic" | "local" | "gateway" {
  if (!config.ANTHROPIC_BASE_URL) return "anthropic";
  const host = new URL(config.ANTHROPIC_BASE_URL).hostname;
  if (host === "api.anthropic.com") return "anthropic";
  if (host === "localhost" || host === "[::1]" || host.startsWith("127.")) return "local";
  return "gateway";
}

/** The request header a test deployment forwards to a local model server to script its answers. */
export const SCENARIO_HEADER = "x-model-scenario";

/**
 * Headers for model calls made on behalf of a request: the scenario header, forwarded outside
 * production only, so a local model server can script its answers; nothing otherwise.
 *
 * @example
 * const headers = providerTestHeaders(c.req.header(SCENARIO_HEADER), config);
 */
export function providerTestHeaders(
  scenario: string | undefined,
  config: Pick<Config, "ENVIRONMENT">,
): Record<string, string> {
  return scenario && config.ENVIRONMENT !== "production" ? { [SCENARIO_HEADER]: scenario } : {};
}
