import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../app";
import { newId } from "../lib/ids";

const ACCEPTED = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Accepts a caller's `X-Request-Id` when it is short and printable (so it can't forge log
 * lines), otherwise mints one; echoes it on every response.
 */
export function requestId() {
  return createMiddleware<HonoEnv>(async function requestIdMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    const id = incoming && ACCEPTED.test(incoming) ? incoming : `req_${newId()}`;
    c.set("requestId", id);
    await next();
    c.header("x-request-id", id);
  });
}
