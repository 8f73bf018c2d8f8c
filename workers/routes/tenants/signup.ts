import { createRoute } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { App, HonoEnv } from "../../app";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { limitPerIp } from "../../lib/rate-limit";
import {
  type CreatedTenant,
  createdTenantSchema,
  createTenantWithOwner,
  newTenantSchema,
} from "./create-tenant-with-owner";

const body = newTenantSchema.omit({ limits: true, settings: true }).openapi("SignupRequest");

export type SignupResponse = CreatedTenant;

/**
 * Runs before the body is validated: with signup off the route answers exactly like a path
 * no route matches (a 400 for a bad body would give it away), and the per-IP limit counts
 * every attempt, malformed ones included, before any password is hashed.
 */
function signupGate() {
  return createMiddleware<HonoEnv>(async function signupGateMiddleware(c, next) {
    const config = c.get("config");
    // Open signup is a development convenience: production never honours the flag.
    if (!config.ALLOW_SIGNUP || config.ENVIRONMENT === "production") {
      throw new ApiError("NOT_FOUND", { detail: "No route matches this path." });
    }
    await limitPerIp(c);
    await next();
  });
}

const route = createRoute({
  operationId: "signup",
  tags: ["tenants"],
  method: "post",
  path: "/v1/signup",
  summary: "Create a tenant and its owner without the platform admin (development only)",
  description:
    "Answers 404 unless ALLOW_SIGNUP is set, and always in production. Limited per client IP. Limits and settings stay at the platform defaults; the new owner then logs in.",
  middleware: [signupGate()] as const,
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: createdTenantSchema } } },
    ...problemResponses(400, 404, 409, 413, 429, 500),
  },
});

export function registerSignup(app: App) {
  app.openapi(route, async (c) => c.json(await createTenantWithOwner(c, c.req.valid("json")), 201));
}
