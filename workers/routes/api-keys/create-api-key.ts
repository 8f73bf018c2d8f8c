import { createRoute, z } from "@hono/zod-openapi";
import { apiKeys } from "../../../db/schema";
import type { App } from "../../app";
import { mintApiKey } from "../../auth/api-keys";
import { authorize } from "../../auth/authorize";
import { mayGrant, role } from "../../auth/roles";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
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
      })
      .returning();
    if (!row) throw new Error("api key insert returned no row");
    await audit(c, {
      action: "api_key.create",
      resourceType: "api_key",
      resourceId: row.id,
      changes: { role: row.role },
    });
    return c.json({ ...toApiKeyResponse(row), key: minted.plaintext }, 201, {
      location: `/v1/api-keys/${row.id}`,
    });
  });
}
