import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../app";
import type { Config } from "../env";
import { ApiError } from "../lib/errors";

/**
 * Refuses bodies over a limit (MAX_BODY_BYTES unless `limitOf` picks another, such as
 * MAX_UPLOAD_BYTES for document uploads) with 413 before any handler parses them: by declared
 * Content-Length when present, else by reading the stream up to the limit (a chunked body
 * cannot promise its size).
 */
export function bodyLimit(limitOf: (config: Config) => number = (config) => config.MAX_BODY_BYTES) {
  return createMiddleware<HonoEnv>(async function bodyLimitMiddleware(c, next) {
    const max = limitOf(c.get("config"));
    const tooLarge = () =>
      new ApiError("PAYLOAD_TOO_LARGE", { detail: `Request bodies are limited to ${max} bytes.` });
    const declared = c.req.header("content-length");
    if (declared !== undefined) {
      if (Number(declared) > max) throw tooLarge();
    } else if (c.req.raw.body && c.req.method !== "GET" && c.req.method !== "HEAD") {
      const reader = c.req.raw.body.getReader();
      const chunks: Uint8Array[] = [];
      let seen = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += value.byteLength;
        if (seen > max) {
          await reader.cancel();
          throw tooLarge();
        }
        chunks.push(value);
      }
      const buffered = new Uint8Array(seen);
      let at = 0;
      for (const chunk of chunks) {
        buffered.set(chunk, at);
        at += chunk.byteLength;
      }
      c.req.raw = new Request(c.req.raw, { body: buffered });
    }
    await next();
  });
}
