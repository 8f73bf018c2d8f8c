import type { Context } from "hono";
import { type ApiError, ERROR_DOCS_BASE, type Problem, titleOf } from "./errors";

/** Renders a failure as an RFC 9457 problem document. */
export function problemResponse(c: Context, err: ApiError): Response {
  const body: Problem = {
    type: `${ERROR_DOCS_BASE}${err.code}`,
    title: titleOf(err.code),
    status: err.status,
    detail: err.message,
    instance: new URL(c.req.url).pathname,
    code: err.code,
    requestId: (c.get("requestId") as string | undefined) ?? "",
    ...(err.errors ? { errors: err.errors } : {}),
    ...(err.limit ? { limit: err.limit } : {}),
  };
  // c.body keeps headers middleware already set (rate-limit, request id, CORS).
  return c.body(JSON.stringify(body), err.status, {
    ...err.headers,
    // Every 401 carries the challenge (RFC 6750), whichever check refused the credential.
    ...(err.status === 401 ? { "WWW-Authenticate": 'Bearer realm="meridian"' } : {}),
    "content-type": "application/problem+json",
  });
}
