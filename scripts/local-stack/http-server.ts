import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The whole request body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Answers `body` as JSON with `status` and any extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export interface LocalHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Drops open connections (SSE streams, keep-alives) and stops listening. */
  close(): Promise<void>;
}

/**
 * Serves `handle` on a local port (a free one by default): the shape of the stack's stand-ins for
 * other parties (webhook receivers, MCP servers, embedding vendors). A handler that throws answers
 * 500 through `onError` if nothing was sent yet, or ends the response.
 *
 * @example
 * const server = await serveLocal(handle, (res, message) => json(res, 500, { error: message }));
 */
export async function serveLocal(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
  onError: (res: ServerResponse, message: string) => void,
  opts: { port?: number; host?: string; beforeClose?: () => Promise<void> } = {},
): Promise<LocalHttpServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) onError(res, error instanceof Error ? error.message : String(error));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    async close() {
      await opts.beforeClose?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
