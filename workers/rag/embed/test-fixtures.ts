import { env } from "cloudflare:workers";
import type {
  FakeEmbeddingsRequest,
  FakeEmbeddingsVendor,
} from "../../../scripts/local-stack/fake-embeddings-server";
import { parseConfig } from "../../env";
import { type EmbeddingSettings, embeddingSettings } from "./provider";

/** The fake embedding vendors the global setup starts (scripts/local-stack/fake-embeddings-server.ts). */
export const FAKE_EMBEDDINGS_URL = (env as unknown as { FAKE_EMBEDDINGS_URL: string }).FAKE_EMBEDDINGS_URL;

export interface FakeEmbeddingsScope {
  /** The configured settings, with every vendor URL moved into this scope. */
  settings: EmbeddingSettings;
  /** Requests one vendor received in this scope, oldest first. */
  requests(vendor: FakeEmbeddingsVendor): Promise<FakeEmbeddingsRequest[]>;
}

/**
 * Test-only: the settings the test bindings configure, pointed at a scope of their own on the
 * fake server, so a test counts only the requests it caused (test files run at the same time
 * against one fake server).
 *
 * @example
 * const fake = fakeEmbeddingsScope();
 * await embeddingProvider(choice, fake.settings).embed(["hello"], "query");
 * expect(await fake.requests("voyage")).toHaveLength(1);
 */
export function fakeEmbeddingsScope(): FakeEmbeddingsScope {
  const scope = crypto.randomUUID();
  const configured = embeddingSettings(parseConfig(env), env);
  const base = `${FAKE_EMBEDDINGS_URL}/s/${scope}`;
  return {
    settings: {
      voyage: { ...configured.voyage, baseUrl: `${base}/voyage` },
      openai: { ...configured.openai, baseUrl: `${base}/openai` },
      workersAi: { ...configured.workersAi, baseUrl: `${base}/workers-ai` },
    },
    async requests(vendor) {
      const res = await fetch(`${FAKE_EMBEDDINGS_URL}/__requests?vendor=${vendor}&scope=${scope}`);
      return ((await res.json()) as { requests: FakeEmbeddingsRequest[] }).requests;
    },
  };
}

/**
 * Test-only: cosine similarity of two vectors.
 *
 * @example
 * expect(cosine(a, b)).toBeGreaterThan(cosine(a, c));
 */
export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  });
  return dot / Math.sqrt(na * nb);
}
