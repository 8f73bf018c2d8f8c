import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { putSecret } from "../../lib/secrets";
import { secretNameParam, secretSchema, toSecretResponse } from "./schemas";

/** Generous for tokens, PEM keys and service-account JSON, small enough to keep rows cheap. */
export const MAX_SECRET_CHARS = 65_536;

const body = z
  .object({
    value: z
      .string()
      .min(1)
      .max(MAX_SECRET_CHARS)
      .openapi({
        description: `The secret value (1-${MAX_SECRET_CHARS} characters). Stored encrypted; never returned.`,
        example: "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
      }),
  })
  .strict()
  .openapi("PutSecretRequest");

const route = createRoute({
  operationId: "putSecret",
  tags: ["secrets"],
  method: "put",
  path: "/v1/secrets/{name}",
  summary: "Create or replace a secret",
  description: "Idempotent: repeating the request replaces the value with the same one.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ name: secretNameParam }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: { description: "Replaced.", content: { "application/json": { schema: secretSchema } } },
    201: { description: "Created.", content: { "application/json": { schema: secretSchema } } },
    ...problemResponses(400, 401, 403, 413, 429, 500),
  },
});

export function registerPutSecret(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "secrets:write");
    const { name } = c.req.valid("param");
    const { value } = c.req.valid("json");
    const { secret, created } = await putSecret(c.get("db"), c.get("config"), name, value);
    await audit(c, {
      action: created ? "secret.create" : "secret.update",
      resourceType: "secret",
      // The name is the secret's identity in the API (its row id is never shown).
      resourceId: name,
      changes: { keyId: secret.keyId },
    });
    return created ? c.json(toSecretResponse(secret), 201) : c.json(toSecretResponse(secret), 200);
  });
}
