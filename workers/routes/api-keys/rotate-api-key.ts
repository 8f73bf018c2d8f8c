import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { apiKeys } from "../../../db/schema";
import type { App } from "../../app";
import { mintApiKey } from "../../auth/api-keys";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadApiKey, requireRankOver } from "./load";
import { createdApiKeySchema, toApiKeyResponse } from "./schemas";

const body = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(3600)
      .openapi({ description: "How long the old key keeps working, so deployments can switch over." }),
  })
  .strict()
  .openapi("RotateApiKeyRequest");

const route = createRoute({
  operationId: "rotateApiKey",
  tags: ["api-keys"],
  method: "post",
  path: "/v1/api-keys/{id}/rotate",
  summary: "Replace a key: a new key now, the old one expires after the overlap",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "API key") }),
    body: { required: false, content: { "application/json": { schema: body } } },
  },
  responses: {
    201: { description: "The new key.", content: { "application/json": { schema: createdApiKeySchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 429, 500),
  },
});

export function registerRotateApiKey(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "api_keys:write");
    const db = c.get("db");
    // The body is optional; without one the validator is skipped and the defaults apply here.
    const { overlapSeconds } = body.parse(c.req.valid("json") ?? {});
    // The row lock makes a concurrent rotation of the same key wait for this one; it then
    // finds the successor below and answers 409, so one key has at most one replacement.
    const old = await loadApiKey(db, c.req.valid("param").id, { forUpdate: true });
    requireRankOver(caller, old);
    const now = Date.now();
    if (old.revokedAt || (old.expiresAt && old.expiresAt.getTime() <= now)) {
      throw new ApiError("CONFLICT", { detail: "A revoked or expired key cannot be rotated." });
    }
    const [successor] = await db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, db.tenantId), eq(apiKeys.rotatedFromId, old.id)));
    if (successor) {
      throw new ApiError("CONFLICT", {
        detail: `This key was already rotated; its replacement is ${successor.id}.`,
      });
    }
    const overlapEnds = new Date(now + overlapSeconds * 1000);
    const oldExpiry = old.expiresAt && old.expiresAt < overlapEnds ? old.expiresAt : overlapEnds;
    await db.update(apiKeys).set({ expiresAt: oldExpiry }).where(eq(apiKeys.id, old.id));
    const minted = await mintApiKey();
    const [row] = await db
      .insert(apiKeys)
      .values({
        tenantId: db.tenantId,
        name: old.name,
        prefix: minted.prefix,
        keyHash: minted.hash,
        role: old.role,
        createdByUserId: caller.kind === "user" ? caller.userId : null,
        // The replacement keeps the old key's own expiry policy and rate limit.
        expiresAt: old.expiresAt,
        requestsPerMinute: old.requestsPerMinute,
        rotatedFromId: old.id,
      })
      .returning();
    if (!row) throw new Error("api key insert returned no row");
    await audit(c, {
      action: "api_key.rotate",
      resourceType: "api_key",
      resourceId: row.id,
      changes: { rotatedFromId: old.id, oldExpiresAt: oldExpiry.toISOString() },
    });
    return c.json({ ...toApiKeyResponse(row), key: minted.plaintext }, 201);
  });
}
