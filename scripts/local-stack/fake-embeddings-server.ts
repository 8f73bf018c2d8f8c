import type { IncomingMessage, ServerResponse } from "node:http";
import { hashedVector } from "../../workers/rag/embed/local.ts";
import { readBody, sendJson, serveLocal } from "./http-server";

export interface FakeEmbeddingsServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`; see {@link startFakeEmbeddingsServer} for the paths under it. */
  url: string;
  close(): Promise<void>;
}

export type FakeEmbeddingsVendor = "voyage" | "openai" | "workers-ai";

/** What `GET /__requests?vendor=&scope=` returns for each request, oldest first. */
export interface FakeEmbeddingsRequest {
  vendor: FakeEmbeddingsVendor;
  /** The path after the scope and vendor prefix, e.g. `/v1/embeddings`. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  /** The status the fake answered with. */
  status: number;
}

/** The bearer token every vendor path accepts. */
export const FAKE_EMBEDDINGS_KEY = "fake-embeddings-key";

const MAX_RECORDED = 500;

/** Models each fake knows, with their default size. Anything else is refused as the vendor would. */
const VOYAGE_MODELS: Record<string, number> = {
  "voyage-3.5": 1024,
  "voyage-3.5-lite": 1024,
  "voyage-3-large": 1024,
  "voyage-code-3": 1024,
  "voyage-3": 1024,
  "voyage-3-lite": 512,
  "voyage-code-2": 1536,
};
const VOYAGE_FLEXIBLE = new Set(["voyage-3.5", "voyage-3.5-lite", "voyage-3-large", "voyage-code-3"]);
const OPENAI_MODELS: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
  "nomic-embed-text": 768,
};
const WORKERS_AI_MODELS: Record<string, number> = {
  "@cf/baai/bge-small-en-v1.5": 384,
  "@cf/baai/bge-base-en-v1.5": 768,
  "@cf/baai/bge-large-en-v1.5": 1024,
  "@cf/baai/bge-m3": 1024,
};
const MAX_INPUTS: Record<FakeEmbeddingsVendor, number> = { voyage: 128, openai: 2048, "workers-ai": 100 };

/** Failure markers, checked in this order; see {@link startFakeEmbeddingsServer}. */
type Failure = "fail-always" | "fail-500" | "fail-429" | "fail-429-long";

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const json = (res: ServerResponse, { status, body, headers }: Answer) => sendJson(res, status, body, headers);

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** One vendor's way of saying no, in its own error body. */
function refusal(
  vendor: FakeEmbeddingsVendor,
  status: number,
  message: string,
  code?: string | number,
): Answer {
  if (vendor === "voyage") return { status, body: { detail: message } };
  if (vendor === "openai") {
    return {
      status,
      body: { error: { message, type: "invalid_request_error", param: null, code: code ?? null } },
    };
  }
  return {
    status,
    body: { result: null, success: false, errors: [{ code: code ?? 1000, message }], messages: [] },
  };
}

/** A deterministic stand-in for a vendor's token count: one token per whitespace-separated word. */
function countTokens(texts: string[]): number {
  return texts.reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
}

/**
 * Three embedding vendors' wire formats on one port, for tests. Vectors come from the offline
 * model (`hashedVector` in workers/rag/embed/local.ts), so they are deterministic and related
 * texts score higher than unrelated ones. Every path may be prefixed with `/s/<scope>/`: requests
 * are recorded per scope, and a test reads back only its own.
 *
 * - `POST /voyage/v1/embeddings`: Voyage AI (`input`, `model`, `input_type`, `output_dimension`).
 * - `POST /openai/v1/embeddings`: OpenAI (`input`, `model`, `dimensions`, `encoding_format`).
 * - `POST /workers-ai/client/v4/accounts/<id>/ai/run/<model>`: the Workers AI REST API (`text`).
 * - All need `Authorization: Bearer fake-embeddings-key` (else 401 in the vendor's error format;
 *   the OpenAI one echoes the key it got, as some gateways do, so scrubbing can be tested), know
 *   a few models each (else 400/404), and refuse more inputs than the vendor takes (400).
 * - Markers in an input text script failures: `[[fail-500]]` answers 500 the first time that text
 *   is seen (in its scope), `[[fail-429]]` answers 429 with `Retry-After: 1` the first time,
 *   `[[fail-429-long]]` answers 429 with `Retry-After: 60` every time, `[[fail-always]]` answers
 *   500 every time, `[[bad-dim]]` returns vectors one number short, and `[[reverse]]` returns
 *   `data` in reverse order (each item keeps its `index`).
 * - `GET /__requests?vendor=<vendor>&scope=<scope>` → `{ requests: FakeEmbeddingsRequest[] }`.
 *
 * @example
 * const fake = await startFakeEmbeddingsServer();
 * // VOYAGE_BASE_URL=`${fake.url}/voyage`, VOYAGE_API_KEY=FAKE_EMBEDDINGS_KEY
 * await fake.close();
 */
export async function startFakeEmbeddingsServer(
  opts: { port?: number; host?: string } = {},
): Promise<FakeEmbeddingsServer> {
  const recorded = new Map<string, FakeEmbeddingsRequest[]>();
  // Times each scripted text has been seen, so "first time fails" holds across retries.
  const seen = new Map<string, number>();

  const firstTime = (scope: string, text: string) => {
    const key = `${scope}\n${text}`;
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count === 1;
  };

  const failure = (scope: string, texts: string[]): Failure | undefined => {
    if (texts.some((t) => t.includes("[[fail-always]]"))) return "fail-always";
    if (texts.some((t) => t.includes("[[fail-429-long]]"))) return "fail-429-long";
    const once = (marker: string) =>
      texts.filter((t) => t.includes(marker)).reduce((hit, t) => firstTime(scope, t) || hit, false);
    if (once("[[fail-500]]")) return "fail-500";
    if (once("[[fail-429]]")) return "fail-429";
    return undefined;
  };

  const failureAnswer = (vendor: FakeEmbeddingsVendor, kind: Failure): Answer => {
    if (kind === "fail-429" || kind === "fail-429-long") {
      const answer = refusal(vendor, 429, "Rate limit exceeded, please slow down.", "rate_limit_exceeded");
      return { ...answer, headers: { "retry-after": kind === "fail-429" ? "1" : "60" } };
    }
    return refusal(vendor, 500, "The server had an error while processing your request.");
  };

  const vectors = (texts: string[], dim: number) =>
    texts.map((text) => {
      const vector = hashedVector(text, dim);
      return text.includes("[[bad-dim]]") ? vector.slice(1) : vector;
    });

  const indexed = (texts: string[], dim: number) => {
    const data = vectors(texts, dim).map((embedding, index) => ({ object: "embedding", embedding, index }));
    return texts.some((t) => t.includes("[[reverse]]")) ? data.reverse() : data;
  };

  const stringList = (value: unknown): string[] | undefined =>
    Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;

  const voyage = (scope: string, body: Record<string, unknown>): Answer => {
    const texts = typeof body.input === "string" ? [body.input] : stringList(body.input);
    if (!texts) return refusal("voyage", 400, "input must be a string or a list of strings");
    if (texts.length > MAX_INPUTS.voyage) {
      return refusal(
        "voyage",
        400,
        `The batch size limit is ${MAX_INPUTS.voyage}. Your batch size is ${texts.length}.`,
      );
    }
    const model = String(body.model);
    const defaultDim = VOYAGE_MODELS[model];
    if (defaultDim === undefined) return refusal("voyage", 400, `Model ${model} is not supported.`);
    const requested = body.output_dimension;
    if (requested !== undefined && requested !== null) {
      if (!VOYAGE_FLEXIBLE.has(model) || ![256, 512, 1024, 2048].includes(Number(requested))) {
        return refusal("voyage", 400, `output_dimension ${String(requested)} is not supported by ${model}.`);
      }
    }
    const kind = failure(scope, texts);
    if (kind) return failureAnswer("voyage", kind);
    const dim = typeof requested === "number" ? requested : defaultDim;
    return {
      status: 200,
      body: { object: "list", data: indexed(texts, dim), model, usage: { total_tokens: countTokens(texts) } },
    };
  };

  const openai = (scope: string, body: Record<string, unknown>): Answer => {
    const texts = typeof body.input === "string" ? [body.input] : stringList(body.input);
    if (!texts) return refusal("openai", 400, "'$.input' is invalid.");
    if (texts.length > MAX_INPUTS.openai) return refusal("openai", 400, "Too many inputs.");
    const model = String(body.model);
    const defaultDim = OPENAI_MODELS[model];
    if (defaultDim === undefined) {
      return refusal(
        "openai",
        404,
        `The model \`${model}\` does not exist or you do not have access to it.`,
        "model_not_found",
      );
    }
    const kind = failure(scope, texts);
    if (kind) return failureAnswer("openai", kind);
    const dim = typeof body.dimensions === "number" ? body.dimensions : defaultDim;
    const tokens = countTokens(texts);
    return {
      status: 200,
      body: {
        object: "list",
        data: indexed(texts, dim),
        model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      },
    };
  };

  const workersAi = (scope: string, model: string, body: Record<string, unknown>): Answer => {
    const texts = typeof body.text === "string" ? [body.text] : stringList(body.text);
    const dim = WORKERS_AI_MODELS[model];
    if (dim === undefined) return refusal("workers-ai", 400, `No such model ${model} or task`, 5007);
    if (!texts) return refusal("workers-ai", 400, "Type mismatch of '/text', 'array' not in 'string'", 5006);
    if (texts.length > MAX_INPUTS["workers-ai"]) {
      return refusal("workers-ai", 400, "Array is too long: must have at most 100 items", 5006);
    }
    const kind = failure(scope, texts);
    if (kind) return failureAnswer("workers-ai", kind);
    const data = vectors(texts, dim);
    return {
      status: 200,
      body: { result: { shape: [texts.length, dim], data }, success: true, errors: [], messages: [] },
    };
  };

  const answer = (
    vendor: FakeEmbeddingsVendor,
    scope: string,
    path: string,
    body: unknown,
    auth?: string,
  ) => {
    if (auth !== `Bearer ${FAKE_EMBEDDINGS_KEY}`) {
      const given = auth?.replace(/^Bearer /, "") ?? "";
      if (vendor === "openai")
        return refusal("openai", 401, `Incorrect API key provided: ${given}.`, "invalid_api_key");
      if (vendor === "voyage") return refusal("voyage", 401, "Provided API key is invalid.");
      return refusal("workers-ai", 401, "Authentication error", 10000);
    }
    if (typeof body !== "object" || body === null)
      return refusal(vendor, 400, "the body must be a JSON object");
    const fields = body as Record<string, unknown>;
    if (vendor === "voyage" && path === "/v1/embeddings") return voyage(scope, fields);
    if (vendor === "openai" && path === "/v1/embeddings") return openai(scope, fields);
    const run = /^\/client\/v4\/accounts\/[^/]+\/ai\/run\/(@.+)$/.exec(path);
    if (vendor === "workers-ai" && run?.[1]) return workersAi(scope, run[1], fields);
    return refusal(vendor, 404, `no route for ${path}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake-embeddings.local");
    if (url.pathname === "/__requests" && req.method === "GET") {
      const key = `${url.searchParams.get("scope") ?? ""}\n${url.searchParams.get("vendor") ?? ""}`;
      return json(res, { status: 200, body: { requests: recorded.get(key) ?? [] } });
    }
    const match = /^(?:\/s\/([^/]+))?\/(voyage|openai|workers-ai)(\/.*)$/.exec(url.pathname);
    const text = await readBody(req);
    if (!match || req.method !== "POST") return json(res, { status: 404, body: { error: "not found" } });
    const scope = match[1] ?? "";
    const vendor = match[2] as FakeEmbeddingsVendor;
    const path = match[3] ?? "";
    const body = parseJson(text);
    const result = answer(vendor, scope, path, body, req.headers.authorization);

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const key = `${scope}\n${vendor}`;
    const list = recorded.get(key) ?? [];
    list.push({ vendor, path, headers, body, status: result.status });
    if (list.length > MAX_RECORDED) list.shift();
    recorded.set(key, list);
    return json(res, result);
  };

  return serveLocal(handle, (res, message) => json(res, { status: 500, body: { error: message } }), opts);
}
