import { problemSchema } from "./errors";

const descriptions = {
  400: "The request is malformed or fails the schema (VALIDATION_FAILED, MALFORMED_JSON).",
  401: "Missing, invalid, expired or revoked credential (UNAUTHENTICATED).",
  402: "A monthly budget of the tenant is used up (PAYMENT_REQUIRED); see the problem's `limit`.",
  403: "The credential lacks the permission this operation needs (FORBIDDEN).",
  404: "The resource does not exist, or belongs to another tenant (NOT_FOUND).",
  409: "Conflicts with current state, or the same Idempotency-Key is in flight.",
  410: "The resource existed but is no longer kept (GONE).",
  413: "The request body exceeds the limit (PAYLOAD_TOO_LARGE).",
  415: "The content type is not supported (UNSUPPORTED_MEDIA_TYPE).",
  422: "Well-formed but semantically invalid (UNPROCESSABLE, IDEMPOTENCY_KEY_REUSED).",
  429: "Rate limit exceeded (RATE_LIMITED; see Retry-After), or a quota used up (QUOTA_EXCEEDED; see `limit`).",
  500: "Unexpected server error (INTERNAL).",
  502: "An upstream service failed (BAD_GATEWAY).",
  503: "A dependency is unavailable (UNAVAILABLE).",
  504: "An upstream service timed out (GATEWAY_TIMEOUT).",
} as const;

export type ProblemStatus = keyof typeof descriptions;

/**
 * OpenAPI response entries for the problem statuses a route can return, so the document
 * says exactly what the code does. Every route lists its own.
 *
 * @example
 * responses: { 200: {...}, ...problemResponses(400, 401, 403, 404, 429) }
 */
export function problemResponses<S extends ProblemStatus>(...statuses: S[]) {
  const out = {} as Record<
    S,
    { description: string; content: { "application/problem+json": { schema: typeof problemSchema } } }
  >;
  for (const status of statuses) {
    out[status] = {
      description: descriptions[status],
      content: { "application/problem+json": { schema: problemSchema } },
    };
  }
  return out;
}
