import type { IncomingMessage, ServerResponse } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { readBody, serveLocal } from "./http-server";

export interface FakeMcpServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`; see {@link startFakeMcpServer} for the paths under it. */
  url: string;
  close(): Promise<void>;
}

/** What `GET /__requests?scope=` returns for each request, oldest first. */
export interface FakeMcpRequest {
  method: string;
  /** The path after the scope, e.g. `/mcp`. */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
}

/** The bearer token `/auth/mcp` accepts. */
export const FAKE_MCP_TOKEN = "fake-mcp-token";
/** The `X-Api-Key` value `/auth/mcp` accepts instead of the bearer token. */
export const FAKE_MCP_API_KEY = "fake-mcp-key";
/** Bytes of text the `huge` tool returns by default: over 1 MiB. */
export const FAKE_MCP_HUGE_BYTES = 1_100_000;

const MAX_RECORDED = 500;

/** A full server: tools, a resource and a prompt. `bare` has tools only (no resources, no prompts). */
function buildServer(kind: "full" | "bare"): McpServer {
  const server = new McpServer({ name: `fake-mcp-${kind}`, version: "1.0.0" });
  server.registerTool(
    "echo",
    {
      description: "Returns its text.",
      inputSchema: { text: z.string().max(10_000) },
      annotations: { readOnlyHint: true },
    },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  if (kind === "bare") return server;
  server.registerTool(
    "add",
    {
      description: "Adds two numbers.",
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );
  server.registerTool(
    "slow",
    {
      description: "Answers after `ms` milliseconds.",
      inputSchema: { ms: z.number().int().min(0).max(30_000) },
    },
    async ({ ms }) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { content: [{ type: "text", text: `slept ${ms} ms` }] };
    },
  );
  server.registerTool(
    "huge",
    {
      description: "Returns `bytes` bytes of text (default just over 1 MiB).",
      inputSchema: { bytes: z.number().int().min(1).max(5_000_000).optional() },
    },
    async ({ bytes }) => ({ content: [{ type: "text", text: "x".repeat(bytes ?? FAKE_MCP_HUGE_BYTES) }] }),
  );
  server.registerTool(
    "fail",
    { description: "Always answers an error result.", inputSchema: {} },
    async () => ({ isError: true, content: [{ type: "text", text: "the fake tool failed on purpose" }] }),
  );
  server.registerResource(
    "readme",
    "fake://readme",
    { description: "A small text resource.", mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, text: "hello from the fake server" }] }),
  );
  server.registerPrompt(
    "greet",
    { description: "Greets someone.", argsSchema: { name: z.string() } },
    ({ name }) => ({
      messages: [{ role: "user", content: { type: "text", text: `Say hello to ${name}.` } }],
    }),
  );
  return server;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers = {}) {
  res.writeHead(status, { "content-type": type, ...headers });
  res.end(body);
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A remote MCP server for tests and local development, built on the SDK's own server classes so
 * the client under test speaks to the real protocol. Every path may be prefixed with
 * `/s/<scope>/`: requests are recorded per scope, so each test counts only its own.
 *
 * - `/mcp`: Streamable HTTP (stateless; answers requests as SSE streams) with the tools `echo`,
 *   `add`, `slow` (`{ ms }`), `huge` (`{ bytes? }`, default > 1 MiB) and `fail` (an error result),
 *   the resource `fake://readme` and the prompt `greet`.
 * - `/bare/mcp`: Streamable HTTP with `echo` only, and no resources or prompts capability.
 * - `/auth/mcp`: like `/mcp`, but 401 without `Authorization: Bearer fake-mcp-token` or
 *   `X-Api-Key: fake-mcp-key`.
 * - `/sse` (GET, the stream) + `/messages` (POST): the legacy HTTP+SSE transport, same tools.
 *   POST `/sse` answers 405, as a legacy server does to a Streamable HTTP client.
 * - `/garbage`: 200 `text/html`, not MCP. `/garbage-json`: 200 JSON that is not JSON-RPC.
 * - `/status/<code>`: answers `<code>`.
 * - `GET /__count?scope=<scope>` → `{ count }` of requests recorded in the scope.
 * - `GET /__requests?scope=<scope>` → `{ requests: FakeMcpRequest[] }`.
 *
 * @example
 * const mcp = await startFakeMcpServer();
 * // register `${mcp.url}/s/${crypto.randomUUID()}/mcp` as a tenant's server
 * await mcp.close();
 */
export async function startFakeMcpServer(
  opts: { port?: number; host?: string } = {},
): Promise<FakeMcpServer> {
  const recorded = new Map<string, FakeMcpRequest[]>();
  const legacySessions = new Map<string, SSEServerTransport>();

  const record = (scope: string, req: IncomingMessage, path: string) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const list = recorded.get(scope) ?? [];
    list.push({ method: req.method ?? "GET", path, headers });
    if (list.length > MAX_RECORDED) list.shift();
    recorded.set(scope, list);
  };

  const streamable = async (req: IncomingMessage, res: ServerResponse, kind: "full" | "bare") => {
    const body = req.method === "POST" ? parseJson(await readBody(req)) : undefined;
    const server = buildServer(kind);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      transport.close().catch(() => undefined);
      server.close().catch(() => undefined);
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake-mcp.local");
    if (url.pathname === "/__count" || url.pathname === "/__requests") {
      const list = recorded.get(url.searchParams.get("scope") ?? "") ?? [];
      const out = url.pathname === "/__count" ? { count: list.length } : { requests: list };
      return send(res, 200, "application/json", JSON.stringify(out));
    }
    const match = /^(?:\/s\/([^/]+))?(\/.*)$/.exec(url.pathname);
    const scope = match?.[1] ?? "";
    const path = match?.[2] ?? url.pathname;
    const prefix = scope ? `/s/${scope}` : "";
    record(scope, req, path);

    if (path === "/mcp") return streamable(req, res, "full");
    if (path === "/bare/mcp") return streamable(req, res, "bare");
    if (path === "/auth/mcp") {
      const ok =
        req.headers.authorization === `Bearer ${FAKE_MCP_TOKEN}` ||
        req.headers["x-api-key"] === FAKE_MCP_API_KEY;
      if (!ok) {
        return send(res, 401, "application/json", JSON.stringify({ error: "unauthorized" }), {
          "www-authenticate": 'Bearer realm="fake-mcp"',
        });
      }
      return streamable(req, res, "full");
    }
    if (path === "/sse") {
      if (req.method !== "GET") return send(res, 405, "text/plain", "method not allowed", { allow: "GET" });
      const transport = new SSEServerTransport(`${prefix}/messages`, res);
      legacySessions.set(transport.sessionId, transport);
      res.on("close", () => legacySessions.delete(transport.sessionId));
      await buildServer("full").connect(transport);
      return;
    }
    if (path === "/messages" && req.method === "POST") {
      const transport = legacySessions.get(url.searchParams.get("sessionId") ?? "");
      if (!transport) return send(res, 404, "text/plain", "unknown session");
      const body = parseJson(await readBody(req));
      await transport.handlePostMessage(req, res, body);
      return;
    }
    if (path === "/garbage") {
      await readBody(req);
      return send(res, 200, "text/html", "<html><body>this is not an MCP server</body></html>");
    }
    if (path === "/garbage-json") {
      await readBody(req);
      return send(res, 200, "application/json", JSON.stringify({ hello: "world" }));
    }
    const status = /^\/status\/([1-5]\d\d)$/.exec(path);
    if (status) {
      await readBody(req);
      return send(res, Number(status[1]), "text/plain", `scripted ${status[1]}`);
    }
    return send(res, 404, "text/plain", "not found");
  };

  return serveLocal(handle, (res, message) => send(res, 500, "text/plain", message), {
    ...opts,
    beforeClose: async () => {
      for (const transport of legacySessions.values()) await transport.close().catch(() => undefined);
    },
  });
}
