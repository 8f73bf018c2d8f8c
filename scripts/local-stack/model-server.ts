import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody, sendJson } from "./http-server.ts";
import { defaultReply, inputUsage, type MessagesRequest, validate } from "./model-server/behaviour.ts";
import {
  errorBody,
  type Message,
  newWireId,
  outBlock,
  outputChars,
  type ScriptBlock,
  type StopReason,
  streamEvents,
  tokens,
  type Usage,
} from "./model-server/wire.ts";

export type { ScriptBlock, StopReason } from "./model-server/wire.ts";

export interface ModelServer {
  /** Base URL to hand to `@anthropic-ai/sdk` as `baseURL`. */
  url: string;
  apiKey: string;
  close(): Promise<void>;
}

export interface ModelServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Key clients must send as `x-api-key` or `Authorization: Bearer`. @default "local-model-key" */
  apiKey?: string;
}

/**
 * One scripted answer. `delayMs` waits before answering; a step with only `delayMs` then gives
 * the default answer. `eventDelayMs` spaces out the SSE events of a streamed message. An error
 * with `inStream` answers a streaming request with 200, message_start and an `error` event, as
 * the API does when it overloads mid-stream; a non-streaming request gets the HTTP error.
 */
export type ScriptStep =
  | {
      message: {
        content: ScriptBlock[];
        stop_reason?: StopReason;
        stop_sequence?: string | null;
        model?: string;
        usage?: Partial<Usage>;
      };
      delayMs?: number;
      eventDelayMs?: number;
    }
  | {
      error: {
        status: number;
        type: string;
        message?: string;
        retryAfter?: number;
        headers?: Record<string, string>;
        inStream?: boolean;
      };
      delayMs?: number;
    }
  | { delayMs: number };

/** What GET /__requests returns for each request a scenario received, oldest first. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-case names; `x-api-key` and `authorization` are left out. */
  headers: Record<string, string>;
  body: unknown;
}

const SCENARIO_HEADER = "x-model-scenario";
const DEFAULT_SCENARIO = "default";
/** Requests kept per scenario, so a long `npm run dev` session doesn't grow without end. */
const MAX_RECORDED = 200;

const json = sendJson;

/**
 * Serves the Anthropic Messages API (`POST /v1/messages`, streaming or not, and
 * `POST /v1/messages/count_tokens`) with deterministic answers, so `@anthropic-ai/sdk` runs
 * unchanged against a local server. By default it echoes the last user text, calls a calculator
 * tool for arithmetic and reports prompt-cache usage; tests script answers per scenario:
 *
 * - `POST /__script` `{ "scenario": "<id>", "responses": [ScriptStep, …] }` replaces the
 *   scenario's steps and forgets its recorded requests. Requests sending the header
 *   `x-model-scenario: <id>` take its steps in order, then fall back to the default answer.
 * - `GET /__requests?scenario=<id>` → `{ "requests": RecordedRequest[] }`.
 * - `DELETE /__script?scenario=<id>` drops steps and records.
 *
 * The prompt cache is kept per scenario, so scenarios don't see each other's cache hits.
 *
 * @example
 * const model = await startModelServer();
 * const anthropic = new Anthropic({ baseURL: model.url, apiKey: model.apiKey });
 * await model.close();
 */
export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const apiKey = opts.apiKey ?? "local-model-key";
  const scripts = new Map<string, ScriptStep[]>();
  const recorded = new Map<string, RecordedRequest[]>();
  const caches = new Map<string, Set<string>>();
  const streams = new Set<ServerResponse>();
  const closing = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || closing.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      closing.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });

  const control = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const scenario = url.searchParams.get("scenario") ?? DEFAULT_SCENARIO;
    if (url.pathname === "/__requests" && req.method === "GET") {
      return json(res, 200, { scenario, requests: recorded.get(scenario) ?? [] });
    }
    if (url.pathname === "/__script" && req.method === "DELETE") {
      scripts.delete(scenario);
      recorded.delete(scenario);
      caches.delete(scenario);
      return json(res, 200, { scenario });
    }
    if (url.pathname === "/__script" && req.method === "POST") {
      const body = JSON.parse(await readBody(req)) as { scenario?: unknown; responses?: unknown };
      if (typeof body.scenario !== "string" || !Array.isArray(body.responses)) {
        return json(res, 400, { error: 'expected { "scenario": string, "responses": ScriptStep[] }' });
      }
      scripts.set(body.scenario, body.responses as ScriptStep[]);
      recorded.delete(body.scenario);
      return json(res, 200, { scenario: body.scenario, steps: body.responses.length });
    }
    return json(res, 404, { error: `unknown control path ${req.method} ${url.pathname}` });
  };

  const messages = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const requestId = newWireId("req");
    const fail = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
      json(res, status, errorBody(type, message, requestId), { "request-id": requestId, ...headers });

    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const key = req.headers["x-api-key"]?.toString() ?? bearer;
    if (!key) return fail(401, "authentication_error", "x-api-key header is required");
    if (key !== apiKey) return fail(401, "authentication_error", "invalid x-api-key");
    if (!req.headers["anthropic-version"]) {
      return fail(400, "invalid_request_error", "anthropic-version: header is required");
    }
    let body: MessagesRequest;
    try {
      body = JSON.parse(await readBody(req)) as MessagesRequest;
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not an object");
    } catch {
      return fail(400, "invalid_request_error", "There was an issue with your request body: invalid JSON");
    }
    const scenario = req.headers[SCENARIO_HEADER]?.toString() ?? DEFAULT_SCENARIO;
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([name, value]) =>
        name === "x-api-key" || name === "authorization" || value === undefined
          ? []
          : [[name, String(value)]],
      ),
    );
    const log = recorded.get(scenario) ?? [];
    log.push({ method: req.method ?? "POST", path, headers, body });
    recorded.set(scenario, log.slice(-MAX_RECORDED));

    const invalid = validate(body);
    if (invalid) return fail(400, "invalid_request_error", invalid);
    const cache = caches.get(scenario) ?? new Set<string>();
    caches.set(scenario, cache);
    if (path === "/v1/messages/count_tokens") {
      const usage = inputUsage(body, new Set(), scenario);
      return json(res, 200, { input_tokens: usage.input_tokens + usage.cache_creation_input_tokens });
    }

    const step = scripts.get(scenario)?.shift();
    if (step?.delayMs) await sleep(step.delayMs);
    if (closing.signal.aborted) return fail(529, "overloaded_error", "Overloaded");
    const stream = body.stream === true;

    if (step && "error" in step) {
      const { status, type, message = type, retryAfter, inStream } = step.error;
      if (!(inStream && stream)) {
        const extra: Record<string, string> = { ...step.error.headers };
        if (retryAfter !== undefined) {
          extra["retry-after"] = String(retryAfter);
          extra["anthropic-ratelimit-requests-limit"] = "50";
          extra["anthropic-ratelimit-requests-remaining"] = "0";
          extra["anthropic-ratelimit-requests-reset"] = new Date(
            Date.now() + retryAfter * 1000,
          ).toISOString();
        }
        return fail(status, type, message, extra);
      }
    }

    const scripted = step && "message" in step ? step.message : undefined;
    const reply = scripted ?? defaultReply(body);
    const content = reply.content.map(outBlock);
    const output_tokens = tokens(outputChars(content));
    const message: Message = {
      id: newWireId("msg"),
      type: "message",
      role: "assistant",
      model: scripted?.model ?? String(body.model),
      content,
      stop_reason:
        reply.stop_reason ?? (content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn"),
      stop_sequence: scripted?.stop_sequence ?? null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: {
        ...inputUsage(body, cache, scenario),
        output_tokens,
        server_tool_use: null,
        output_tokens_details: null,
        inference_geo: null,
        service_tier: "standard",
        speed: null,
        ...scripted?.usage,
      },
    };
    if (!stream) return json(res, 200, message, { "request-id": requestId });

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "request-id": requestId,
    });
    streams.add(res);
    res.once("close", () => streams.delete(res));
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const events = streamEvents(message);
    if (step && "error" in step) {
      // An error after the stream began: the API sends it as an `error` event and stops.
      send("message_start", events[0]?.data);
      send("error", errorBody(step.error.type, step.error.message ?? step.error.type, requestId));
      return res.end();
    }
    const gap = "eventDelayMs" in (step ?? {}) ? Number((step as { eventDelayMs?: number }).eventDelayMs) : 0;
    for (const { event, data } of events) {
      if (closing.signal.aborted || res.destroyed) break;
      send(event, data);
      if (gap > 0) await sleep(gap);
    }
    res.end();
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://model");
    try {
      if (url.pathname.startsWith("/__")) return await control(req, res, url);
      if (
        req.method === "POST" &&
        (url.pathname === "/v1/messages" || url.pathname === "/v1/messages/count_tokens")
      ) {
        return await messages(req, res, url.pathname);
      }
      return json(res, 404, errorBody("not_found_error", "Not found", newWireId("req")));
    } catch (error) {
      if (res.headersSent) return res.end();
      const message = error instanceof Error ? error.message : String(error);
      return json(res, 500, errorBody("api_error", `Internal server error: ${message}`, newWireId("req")));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    apiKey,
    async close() {
      closing.abort();
      for (const res of streams) res.end();
      // Clients keep connections alive; without closing them server.close() would wait for them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
