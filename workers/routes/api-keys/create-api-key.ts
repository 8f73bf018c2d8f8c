import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { apiKeys, tenants } from "../../../db/schema";
import type { TenantDb } from "../../../db/tenant";
import type { App } from "../../app";
import { mintApiKey } from "../../auth/api-keys";
import { authorize } from "../../auth/authorize";
import { mayGrant, role } from "../../auth/roles";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { effectiveLimits, limitsAboveCeiling } from "../../lib/limits";
import { problemResponses } from "../../lib/problem-responses";
import { createdApiKeySchema, toApiKeyResponse } from "./schemas";

const body = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: "ci-deploys" }),
    role: role.default("member").openapi({ description: "At most the creator's own role." }),
    expiresAt: z
      .string()
      .datetime()
      .optional()
      .openapi({ description: "When the key stops working; omit for no expiry." }),
    requestsPerMinute: z.number().int().positive().optional().openapi({
      description:
        "The key's own rate limit, at most the tenant's `requestsPerMinute`; omit to use the tenant's.",
      example: 120,
    }),
  })
  .strict()
  .openapi("CreateApiKeyRequest");

const route = createRoute({
  operationId: "createApiKey",
  tags: ["api-keys"],
  method: "post",
  path: "/v1/api-keys",
  summary: "Create an API key (the secret is shown once)",
  security: [{ bearer: [] }],
  description:
    "Not replayed through Idempotency-Key: replay would mean storing the secret. A retried request makes a second key; list and revoke the spare.",
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    201: { description: "Created.", content: { "application/json": { schema: createdApiKeySchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 422, 429, 500),
  },
});

/**
 * A key's own rate limit may not exceed its tenant's effective `requestsPerMinute` (ceiling ->
 * tenant default -> platform default): a key narrows its tenant's limit, never widens it.
 *
 * @throws ApiError UNPROCESSABLE naming `requestsPerMinute`.
 */
async function checkKeyRateLimit(db: TenantDb, requestsPerMinute: number): Promise<void> {
  const [tenant] = await db
    .select({ settings: tenants.settings, limits: tenants.limits })
    .from(tenants)
    .where(eq(tenants.id, db.tenantId));
  const tenantRpm = effectiveLimits({
    ceiling: tenant?.limits,
    defaults: tenant?.settings.defaultLimits,
  }).requestsPerMinute;
  if (limitsAboveCeiling({ requestsPerMinute }, { requestsPerMinute: tenantRpm }).length > 0) {
    throw new ApiError("UNPROCESSABLE", {
      detail: "The key's rate limit breaks the tenant's limits.",
      errors: [
        { path: "requestsPerMinute", message: `exceeds the tenant's requests per minute (${tenantRpm})` },
      ],
    });
  }
}

export function registerCreateApiKey(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "api_keys:write");
    const input = c.req.valid("json");
    if (caller.kind !== "platform_admin" && !mayGrant(caller.role, input.role)) {
      throw new ApiError("FORBIDDEN", {
        detail: `A ${caller.role} cannot create a key with the ${input.role} role.`,
      });
    }
    if (input.expiresAt && new Date(input.expiresAt).getTime() <= Date.now()) {
      throw new ApiError("UNPROCESSABLE", {
        detail: "expiresAt is in the past.",
        errors: [{ path: "expiresAt", message: "must be in the future" }],
      });
    }
    const db = c.get("db");
    if (input.requestsPerMinute !== undefined) await checkKeyRateLimit(db, input.requestsPerMinute);
    const minted = await mintApiKey();
    const [row] = await db
      .insert(apiKeys)
      .values({
        tenantId: db.tenantId,
        name: input.name,
        prefix: minted.prefix,
        keyHash: minted.hash,
        role: input.role,
        createdByUserId: caller.kind === "user" ? caller.userId : null,
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        requestsPerMinute: input.requestsPerMinute ?? null,
      })
      .returning();
    if (!row) throw new Error("api key insert returned no row");
    await audit(c, {
      action: "api_key.create",
      resourceType: "api_key",
      resourceId: row.id,
      changes: { role: row.role, requestsPerMinute: row.requestsPerMinute },
    });
    return c.json({ ...toApiKeyResponse(row), key: minted.plaintext }, 201, {
      location: `/v1/api-keys/${row.id}`,
    });
  });
}
