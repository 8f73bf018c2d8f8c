import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport, SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type CallToolResult, ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import type { DiscoveredTool, MCP_TRANSPORTS } from "../../db/schema/mcp";
import type { TenantDb } from "../../db/tenant";
import type { Config } from "../../workers/env";
import { ApiError } from "../../workers/lib/errors";
import { outboundFetch } from "../../workers/lib/outbound-fetch";
import { resolveAuthHeaders } from "./credentials";
import { quote, RemoteMcpError } from "./errors";
import { checkRemoteMcpUrl, remoteMcpPolicy } from "./policy";
import type { McpServerRow } from "./types";

/**
 * How long one request to a remote server (initialize, a list page, a tool call, a ping) may take.
 * A tool that needs longer belongs behind an asynchronous interface, not a held connection.
 * @default 15 s
 */
export const CALL_TIMEOUT_MS = 15_000;

/**
 * The largest answer read from a remote server, per HTTP response: a tool result, a list page, or
 * (legacy SSE) everything the session's event stream carries. Larger answers fail `output_too_large`
 * as soon as the limit is crossed, without reading the rest.
 * @default 256 KiB
 */
export const MAX_OUTPUT_BYTES = 256 * 1024;

/**
 * Added to the per-request timeout for the HTTP exchange that carries it, so the SDK's own timeout
 * fires first and the error names the request rather than the socket.
 */
const EXCHANGE_GRACE_MS = 5_000;

/** Discovery reads at most this many pages of each list, and this many items in all. */
const MAX_LIST_PAGES = 10;
const MAX_LIST_ITEMS = 500;

const CLIENT_INFO = { name: "meridian", version: "1.0.0" };

export type McpTransport = (typeof MCP_TRANSPORTS)[number];

/** What connecting needs: the tenant's database (for the credential), config and an optional abort. */
export interface RemoteContext {
  db: TenantDb;
  config: Pick<Config, "ENVIRONMENT" | "OUTBOUND_ALLOW_PRIVATE" | "SECRETS_MASTER_KEYS">;
  signal?: AbortSignal | undefined;
}

export interface ConnectOptions {
  /** Per-request timeout. @default CALL_TIMEOUT_MS */
  timeoutMs?: number;
  /** Per-response size cap. @default MAX_OUTPUT_BYTES */
  maxResponseBytes?: number;
}

/** What the server said about itself in `initialize`. */
export interface RemoteServerInfo {
  name: string;
  version: string;
  title?: string | undefined;
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  instructions?: string | undefined;
}

/** A tool as listed, with the optional fields MCP defines beside the ones the registry types. */
export interface RemoteTool extends DiscoveredTool {
  title?: string;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

export interface RemoteResource {
  uri: string;
  name: string;
  description?: string;
  mimeType?: string;
}

export interface RemotePrompt {
  name: string;
  description?: string;
  arguments?: { name: string; description?: string; required?: boolean }[];
}

/** An initialized session with a remote server. Every method throws `RemoteMcpError`. */
export interface RemoteConnection {
  /** The transport that answered: `sse` after a fallback from Streamable HTTP. */
  readonly transport: McpTransport;
  readonly serverInfo: RemoteServerInfo;
  listTools(): Promise<RemoteTool[]>;
  /** Empty when the server has no resources capability or does not implement the method. */
  listResources(): Promise<RemoteResource[]>;
  /** Empty when the server has no prompts capability or does not implement the method. */
  listPrompts(): Promise<RemotePrompt[]>;
  /** MCP `ping`; resolves to the round trip in milliseconds. */
  ping(): Promise<number>;
  callTool(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Thrown inside `connectRemote` when Streamable HTTP is refused in a way that says "try SSE". */
class UseSse extends Error {}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * The state of one connection: the first fatal failure (an over-size or non-JSON-RPC answer,
 * which the SDK only reports through `onerror` when it arrives on an event stream) aborts every
 * pending request, so the caller gets that failure at once instead of a timeout.
 */
class Session {
  failure: RemoteMcpError | undefined;
  private lastTransportError: unknown;
  private readonly controller = new AbortController();
  readonly signal: AbortSignal;

  constructor(
    readonly timeoutMs: number,
    readonly maxBytes: number,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.signal = callerSignal
      ? AbortSignal.any([callerSignal, this.controller.signal])
      : this.controller.signal;
  }

  fail(error: RemoteMcpError): void {
    if (this.failure) return;
    this.failure = error;
    this.controller.abort(error);
  }

  onTransportError(error: unknown): void {
    if (isGarbage(error)) {
      this.fail(
        new RemoteMcpError(
          `the server sent something that is not JSON-RPC: ${describe(error)}`,
          "invalid_response",
        ),
      );
    } else {
      this.lastTransportError = error;
    }
  }

  options(): RequestOptions {
    return { timeout: this.timeoutMs, signal: this.signal };
  }

  /** Runs one SDK request, mapping whatever it throws to a `RemoteMcpError`. */
  async run<T>(what: string, request: (options: RequestOptions) => Promise<T>): Promise<T> {
    if (this.failure) throw this.failure;
    try {
      return await request(this.options());
    } catch (error) {
      throw this.toError(error, what);
    }
  }

  /** Counts the body as it streams, failing the session when it crosses the cap. */
  limit(res: Response): Response {
    const declared = Number(res.headers.get("content-length") ?? Number.NaN);
    if (declared > this.maxBytes) {
      res.body?.cancel().catch(() => undefined);
      const error = this.tooLarge();
      this.fail(error);
      throw error;
    }
    if (!res.body || NULL_BODY_STATUSES.has(res.status)) return res;
    let seen = 0;
    const session = this;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > session.maxBytes) {
            const error = session.tooLarge();
            session.fail(error);
            controller.error(error);
            return;
          }
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  private tooLarge(): RemoteMcpError {
    return new RemoteMcpError(
      `the server's answer is larger than ${this.maxBytes} bytes`,
      "output_too_large",
    );
  }

  toError(error: unknown, what: string): RemoteMcpError {
    if (this.failure) return this.failure;
    if (this.callerSignal?.aborted) return new RemoteMcpError(`${what} was cancelled`, "cancelled");
    if (error instanceof RemoteMcpError) return error;
    if (error instanceof McpError) {
      if (error.code === ErrorCode.RequestTimeout) {
        return new RemoteMcpError(`the server did not answer ${what} within ${this.timeoutMs} ms`, "timeout");
      }
      if (error.code === ErrorCode.ConnectionClosed) {
        const cause = this.lastTransportError ? `: ${describe(this.lastTransportError)}` : "";
        return new RemoteMcpError(`the connection closed during ${what}${cause}`, "unreachable");
      }
      return new RemoteMcpError(
        `the server answered ${what} with an error: ${quote(error.message)}`,
        "protocol_error",
      );
    }
    if (error instanceof StreamableHTTPError || error instanceof SseError) {
      const status = error.code;
      if (status === 401 || status === 403) {
        return new RemoteMcpError(
          `the server refused the credential (HTTP ${status}) at ${what}`,
          "auth_failed",
        );
      }
      if (status === -1 || status === undefined) {
        return new RemoteMcpError(
          `the server's answer to ${what} is not MCP: ${quote(error.message)}`,
          "invalid_response",
        );
      }
      return new RemoteMcpError(`the server answered ${what} with HTTP ${status}`, "http_error");
    }
    if (error instanceof ApiError) {
      if (error.code === "GATEWAY_TIMEOUT") {
        return new RemoteMcpError(`the server did not answer ${what} in time: ${error.message}`, "timeout");
      }
      if (error.code === "UNPROCESSABLE") return new RemoteMcpError(error.message, "url_refused");
      return new RemoteMcpError(`${what} failed: ${quote(error.message)}`, "unreachable");
    }
    if (isGarbage(error)) {
      return new RemoteMcpError(
        `the server's answer to ${what} is not JSON-RPC: ${describe(error)}`,
        "invalid_response",
      );
    }
    if (error instanceof Error && /protocol version is not supported/.test(error.message)) {
      return new RemoteMcpError(quote(error.message), "protocol_error");
    }
    return new RemoteMcpError(`${what} failed: ${describe(error)}`, "unreachable");
  }
}

/** A parse failure: invalid JSON, or JSON that is not a JSON-RPC message (the SDK validates with zod). */
function isGarbage(error: unknown): boolean {
  return error instanceof SyntaxError || (error instanceof Error && error.name === "ZodError");
}

function describe(error: unknown): string {
  if (error instanceof Error && error.name === "ZodError") return "its shape does not match the protocol";
  return quote(error instanceof Error ? error.message : String(error));
}

/**
 * The fetch the SDK transports use: every request (each redirect hop included, since the SDK
 * follows same-origin redirects by calling it again) is re-checked against the policy and goes
 * through `outboundFetch` (deadline, size cap), and the credential is added only for the
 * server's own origin.
 */
function remoteFetch(ctx: RemoteContext, origin: string, auth: Headers, session: Session): FetchLike {
  const policy = remoteMcpPolicy(ctx.config);
  return async (input, init = {}) => {
    const target = checkRemoteMcpUrl(String(input), ctx.config);
    const headers = new Headers(init.headers);
    if (target.origin === origin) for (const [name, value] of auth) headers.set(name, value);
    // Only what a Worker's fetch understands: EventSource also passes mode, credentials and cache.
    const res = await outboundFetch(
      target.href,
      {
        method: init.method ?? "GET",
        headers,
        body: init.body ?? null,
        signal: init.signal ?? null,
        redirect: init.redirect ?? "manual",
      },
      {
        ...policy,
        timeoutMs: session.timeoutMs + EXCHANGE_GRACE_MS,
        // A backstop only: the session's own count fails first, with output_too_large.
        maxResponseBytes: session.maxBytes * 2,
      },
    );
    return session.limit(res);
  };
}

async function open(
  ctx: RemoteContext,
  url: URL,
  auth: Headers,
  kind: McpTransport,
  opts: ConnectOptions,
): Promise<RemoteConnection> {
  const session = new Session(
    opts.timeoutMs ?? CALL_TIMEOUT_MS,
    opts.maxResponseBytes ?? MAX_OUTPUT_BYTES,
    ctx.signal,
  );
  const fetch = remoteFetch(ctx, url.origin, auth, session);
  const transport =
    kind === "sse"
      ? new SSEClientTransport(url, { fetch })
      : new StreamableHTTPClientTransport(url, {
          fetch,
          // One request, one answer: a dropped stream is a failed call, not something to resume.
          reconnectionOptions: {
            maxRetries: 0,
            initialReconnectionDelay: 1_000,
            maxReconnectionDelay: 1_000,
            reconnectionDelayGrowFactor: 1,
          },
        });
  // The CfWorker validator: the SDK's default (Ajv) compiles schemas with `new Function`, which
  // workerd refuses outside tests.
  const client = new Client(CLIENT_INFO, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  client.onerror = (error) => session.onTransportError(error);
  // The SDK keeps the negotiated version to itself; both transports are told it once, after initialize.
  let protocolVersion = "";
  const setProtocolVersion = transport.setProtocolVersion.bind(transport);
  transport.setProtocolVersion = (version: string) => {
    protocolVersion = version;
    setProtocolVersion(version);
  };
  try {
    await client.connect(transport, session.options());
  } catch (error) {
    await client.close().catch(() => undefined);
    if (
      kind === "streamable_http" &&
      !session.failure &&
      error instanceof StreamableHTTPError &&
      error.code !== undefined &&
      error.code >= 400 &&
      error.code < 500 &&
      ![401, 403, 408, 429].includes(error.code)
    ) {
      throw new UseSse();
    }
    throw session.toError(error, "initialize");
  }

  const version = client.getServerVersion();
  const serverInfo: RemoteServerInfo = {
    name: version?.name ?? "",
    version: version?.version ?? "",
    title: version?.title,
    protocolVersion,
    capabilities: (client.getServerCapabilities() ?? {}) as Record<string, unknown>,
    instructions: client.getInstructions(),
  };

  /** Walks a paginated list, tolerating servers that do not implement it (-32601). */
  async function pages<T>(
    what: string,
    list: (
      cursor: string | undefined,
      options: RequestOptions,
    ) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
  ): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES && out.length < MAX_LIST_ITEMS; page++) {
      const result = await session.run(what, (options) =>
        list(cursor, options).catch((error: unknown) => {
          if (error instanceof McpError && error.code === ErrorCode.MethodNotFound) return null;
          throw error;
        }),
      );
      if (result === null) break;
      out.push(...result.items);
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    return out.slice(0, MAX_LIST_ITEMS);
  }

  const params = (cursor: string | undefined) => (cursor ? { cursor } : undefined);
  return {
    transport: kind,
    serverInfo,
    listTools: () =>
      pages("tools/list", async (cursor, options) => {
        const result = await client.listTools(params(cursor), options);
        const items = result.tools.map((t) => {
          const tool: RemoteTool = { name: t.name, inputSchema: t.inputSchema as Record<string, unknown> };
          if (t.title) tool.title = t.title;
          if (t.description) tool.description = t.description;
          if (t.outputSchema) tool.outputSchema = t.outputSchema as Record<string, unknown>;
          if (t.annotations) tool.annotations = t.annotations as Record<string, unknown>;
          return tool;
        });
        return { items, nextCursor: result.nextCursor };
      }),
    listResources: async () => {
      if (!serverInfo.capabilities.resources) return [];
      return pages("resources/list", async (cursor, options) => {
        const result = await client.listResources(params(cursor), options);
        const items = result.resources.map((r) => {
          const resource: RemoteResource = { uri: r.uri, name: r.name };
          if (r.description) resource.description = r.description;
          if (r.mimeType) resource.mimeType = r.mimeType;
          return resource;
        });
        return { items, nextCursor: result.nextCursor };
      });
    },
    listPrompts: async () => {
      if (!serverInfo.capabilities.prompts) return [];
      return pages("prompts/list", async (cursor, options) => {
        const result = await client.listPrompts(params(cursor), options);
        const items = result.prompts.map((p) => {
          const prompt: RemotePrompt = { name: p.name };
          if (p.description) prompt.description = p.description;
          if (p.arguments) prompt.arguments = p.arguments.map((a) => ({ ...a }));
          return prompt;
        });
        return { items, nextCursor: result.nextCursor };
      });
    },
    async ping() {
      const started = Date.now();
      await session.run("ping", (options) => client.ping(options));
      return Date.now() - started;
    },
    async callTool(name, args) {
      const result = await session.run(`tools/call ${name}`, (options) =>
        client.callTool({ name, arguments: args }, undefined, options),
      );
      return result as CallToolResult;
    },
    async close() {
      if (transport instanceof StreamableHTTPClientTransport && transport.sessionId && !session.failure) {
        await transport.terminateSession().catch(() => undefined);
      }
      await client.close().catch(() => undefined);
    },
  };
}

/**
 * Opens an initialized MCP session with a tenant's remote server. Streamable HTTP first (unless
 * the server is registered as `sse`); a 4xx answer to `initialize` other than 401/403/408/429 means
 * a server that predates Streamable HTTP, and the same URL is tried again with the legacy HTTP+SSE
 * transport, as the MCP specification's backwards-compatibility section describes. Every request
 * goes through `outboundFetch` with the server's credential resolved from its secret.
 *
 * Close the connection when done (`try/finally`): the legacy transport holds an event stream open.
 *
 * @throws {RemoteMcpError} with a reason: `url_refused`, `secret_missing`, `auth_failed`,
 *   `unreachable`, `timeout`, `http_error`, `invalid_response`, `output_too_large`,
 *   `protocol_error`, `cancelled`.
 * @example
 * const conn = await connectRemote({ db, config }, server);
 * try { return await conn.listTools(); } finally { await conn.close(); }
 */
export async function connectRemote(
  ctx: RemoteContext,
  server: Pick<McpServerRow, "url" | "transport" | "authSecretName">,
  opts: ConnectOptions = {},
): Promise<RemoteConnection> {
  let url: URL;
  try {
    url = checkRemoteMcpUrl(server.url, ctx.config);
  } catch (error) {
    throw new RemoteMcpError(error instanceof Error ? error.message : "The URL was refused.", "url_refused");
  }
  const auth = await resolveAuthHeaders(ctx.db, ctx.config, server);
  if (server.transport === "sse") return open(ctx, url, auth, "sse", opts);
  try {
    return await open(ctx, url, auth, "streamable_http", opts);
  } catch (error) {
    if (error instanceof UseSse) return open(ctx, url, auth, "sse", opts);
    throw error;
  }
}
