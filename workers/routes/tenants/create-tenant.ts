import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../app";
import { requirePlatformAdmin } from "../../auth/platform-admin";
import { problemResponses } from "../../lib/problem-responses";
import {
  type CreatedTenant,
  createdTenantSchema,
  createTenantWithOwner,
  newTenantSchema,
} from "./create-tenant-with-owner";

const body = newTenantSchema.openapi("CreateTenantRequest");

export type CreateTenantResponse = CreatedTenant;

const route = createRoute({
  operationId: "createTenant",
  tags: ["tenants"],
  method: "post",
  path: "/v1/tenants",
  summary: "Create a tenant and its owner (platform admin)",
  description: "Retry-safe without an Idempotency-Key: the slug is unique, so a repeat answers 409.",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: createdTenantSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 422, 429, 500),
  },
});

export function registerCreateTenant(app: App) {
  app.openapi(route, async (c) => {
    requirePlatformAdmin(c);
    return c.json(await createTenantWithOwner(c, c.req.valid("json")), 201);
  });
}
