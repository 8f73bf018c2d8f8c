import { z } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every error code the API can return. Stable: clients switch on these. */
export const errorCode = z.enum([
  "VALIDATION_FAILED",
  "MALFORMED_JSON",
  "UNAUTHENTICATED",
  "PAYMENT_REQUIRED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "IDEMPOTENCY_IN_FLIGHT",
  "GONE",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNPROCESSABLE",
  "IDEMPOTENCY_KEY_REUSED",
  "RATE_LIMITED",
  "QUOTA_EXCEEDED",
  "INTERNAL",
  "BAD_ENVIRONMENT",
  "BAD_GATEWAY",
  "UNAVAILABLE",
  "GATEWAY_TIMEOUT",
]);
export type ErrorCode = z.infer<typeof errorCode>;

/** The HTTP status of each code; exhaustive so a new code cannot ship without one. */
export function statusOf(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case "VALIDATION_FAILED":
    case "MALFORMED_JSON":
      return 400;
    case "UNAUTHENTICATED":
      return 401;
    case "PAYMENT_REQUIRED":
      return 402;
    case "FORBIDDEN":
      return 403;
    case "NOT_FOUND":
      return 404;
    case "CONFLICT":
    case "IDEMPOTENCY_IN_FLIGHT":
      return 409;
    case "GONE":
      return 410;
    case "PAYLOAD_TOO_LARGE":
      return 413;
    case "UNSUPPORTED_MEDIA_TYPE":
      return 415;
    case "UNPROCESSABLE":
    case "IDEMPOTENCY_KEY_REUSED":
      return 422;
    case "RATE_LIMITED":
    case "QUOTA_EXCEEDED":
      return 429;
    case "INTERNAL":
    case "BAD_ENVIRONMENT":
      return 500;
    case "BAD_GATEWAY":
      return 502;
    case "UNAVAILABLE":
      return 503;
    case "GATEWAY_TIMEOUT":
      return 504;
  }
}

const titles: Record<ErrorCode, string> = {
  VALIDATION_FAILED: "The request does not match the schema",
  MALFORMED_JSON: "The request body is not valid JSON",
  UNAUTHENTICATED: "Missing or invalid credentials",
  PAYMENT_REQUIRED: "The tenant's budget is exhausted",
  FORBIDDEN: "The credential lacks the required permission",
  NOT_FOUND: "The resource does not exist",
  CONFLICT: "The request conflicts with the resource's current state",
  IDEMPOTENCY_IN_FLIGHT: "A request with this Idempotency-Key is still in progress",
  GONE: "The resource existed but is no longer kept",
  PAYLOAD_TOO_LARGE: "The request body is too large",
  UNSUPPORTED_MEDIA_TYPE: "The content type is not supported",
  UNPROCESSABLE: "The request is well-formed but cannot be processed",
  IDEMPOTENCY_KEY_REUSED: "The Idempotency-Key was used with a different request",
  RATE_LIMITED: "Too many requests",
  QUOTA_EXCEEDED: "The tenant's quota for this resource is used up",
  INTERNAL: "Internal server error",
  BAD_ENVIRONMENT: "The service is misconfigured",
  BAD_GATEWAY: "An upstream service failed",
  UNAVAILABLE: "A dependency is unavailable",
  GATEWAY_TIMEOUT: "An upstream service timed out",
};

export function titleOf(code: ErrorCode): string {
  return titles[code];
}

/** One invalid field of a request, as listed in a VALIDATION_FAILED problem. */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * The one error type routes throw. `app.onError` renders it as problem+json.
 *
 * @example
 * throw new ApiError("NOT_FOUND", { detail: `agent ${id} not found` });
 */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  /**
   * For RATE_LIMITED, QUOTA_EXCEEDED and PAYMENT_REQUIRED: which limit refused the request (a
   * rate-limit policy such as "tenant", or a limits key such as "maxConcurrentWorkflows" or
   * "maxAgents"), as the rejection metric labels it and the problem's `limit` field names it.
   */
  readonly limit: string | undefined;

  constructor(
    code: ErrorCode,
    opts: {
      detail?: string;
      errors?: FieldError[];
      headers?: Record<string, string>;
      cause?: unknown;
      limit?: string;
    } = {},
  ) {
    super(statusOf(code), { message: opts.detail ?? titleOf(code), cause: opts.cause });
    this.name = "ApiError";
    this.code = code;
    this.errors = opts.errors;
    this.headers = opts.headers;
    this.limit = opts.limit;
  }
}

export const problemSchema = z
  .object({
    type: z.string().url().openapi({ example: "https://docs.meridian.dev/errors/NOT_FOUND" }),
    title: z.string().openapi({ example: titles.NOT_FOUND }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: "agent 0193... not found" }),
    instance: z.string().openapi({ example: "/v1/agents/0193..." }),
    code: errorCode,
    requestId: z.string().openapi({ example: "req_0193..." }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Field-level details for VALIDATION_FAILED." }),
    limit: z.string().optional().openapi({
      description:
        "For RATE_LIMITED, QUOTA_EXCEEDED and PAYMENT_REQUIRED: the limit or quota that refused the request.",
      example: "maxAgents",
    }),
  })
  .openapi("Problem");
export type Problem = z.infer<typeof problemSchema>;

export const ERROR_DOCS_BASE = "https://docs.meridian.dev/errors/";
