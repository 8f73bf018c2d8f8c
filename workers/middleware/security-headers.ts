import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../app";

/**
 * Headers for an API that serves JSON (and one docs page): no framing, no sniffing, no
 * referrer leakage, HTTPS only. /docs sets its own policy (Swagger UI from one pinned CDN build).
 */
export function securityHeaders() {
  return createMiddleware<HonoEnv>(async function securityHeadersMiddleware(c, next) {
    await next();
    const h = c.res.headers;
    h.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    if (!h.has("Content-Security-Policy")) {
      h.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }
  });
}
