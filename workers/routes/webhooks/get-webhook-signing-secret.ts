import { createRoute } from "@hono/zod-openapi";
import { connect } from "../../../db/client";
import { withTenant } from "../../../db/tenant";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { problemResponses } from "../../lib/problem-responses";
import { ensureSigningSecret, getSigningSecret } from "../../lib/webhooks";
import { type SigningSecretResponse, signingSecretSchema } from "./schemas";

const route = createRoute({
  operationId: "getWebhookSigningSecret",
  tags: ["webhooks"],
  method: "get",
  path: "/v1/webhooks/signing-secret",
  summary: "The tenant's webhook signing secret (created on first use)",
  description:
    "Every webhook the tenant receives is signed with this secret (`Meridian-Signature`). Owners and admins " +
    "only: the secret lets its holder forge webhooks, so reading it needs `webhooks:write`.",
  security: [{ bearer: [] }],
  responses: {
    200: { description: "The secret.", content: { "application/json": { schema: signingSecretSchema } } },
    ...problemResponses(401, 403, 429, 500),
  },
});

export function registerGetWebhookSigningSecret(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "webhooks:write");
    const db = c.get("db");
    const config = c.get("config");
    let secret = await getSigningSecret(db, config);
    if (secret === null) {
      // A GET runs in a read-only transaction (tenant-db middleware), so the first use creates
      // the secret in a short tenant transaction of its own; the advisory lock inside makes a
      // concurrent first use (a delivery, another GET) return this same secret.
      const client = await connect(config);
      try {
        secret = await withTenant(client, db.tenantId, (writable) => ensureSigningSecret(writable, config));
      } finally {
        c.executionCtx.waitUntil(client.end().catch(() => undefined));
      }
    }
    const body: SigningSecretResponse = { secret };
    c.header("cache-control", "no-store");
    return c.json(body, 200);
  });
}
