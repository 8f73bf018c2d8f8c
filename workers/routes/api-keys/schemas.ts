import { z } from "@hono/zod-openapi";
import type { ApiKey } from "../../../db/types";
import { role } from "../../auth/roles";
import { iso, timestamp } from "../../lib/schemas";

export const apiKeySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string().openapi({ example: "ci-deploys" }),
    prefix: z.string().openapi({ description: "The key's visible start.", example: "mk_1a2b3c4d" }),
    role,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable(),
    rotatedFromId: z.string().uuid().nullable(),
    requestsPerMinute: z.number().int().positive().nullable().openapi({
      description:
        "The key's own rate limit (requests per minute), at most the tenant's; null: the tenant's `requestsPerMinute`.",
      example: 120,
    }),
    createdAt: timestamp,
  })
  .openapi("ApiKey");
export type ApiKeyResponse = z.infer<typeof apiKeySchema>;

export const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().openapi({ description: "The secret key. Shown only in this response." }) })
  .openapi("CreatedApiKey");
export type CreatedApiKeyResponse = z.infer<typeof createdApiKeySchema>;

export function toApiKeyResponse(row: ApiKey): ApiKeyResponse {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    expiresAt: row.expiresAt ? iso(row.expiresAt) : null,
    revokedAt: row.revokedAt ? iso(row.revokedAt) : null,
    lastUsedAt: row.lastUsedAt ? iso(row.lastUsedAt) : null,
    rotatedFromId: row.rotatedFromId,
    requestsPerMinute: row.requestsPerMinute,
    createdAt: iso(row.createdAt),
  };
}
