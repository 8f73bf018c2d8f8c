import { createRoute, type z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { listSecretNames } from "../../lib/secrets";
import { isReservedSecretName, secretSchema, toSecretResponse } from "./schemas";

const page = pageOf(secretSchema, "SecretPage");
export type ListSecretsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listSecrets",
  tags: ["secrets"],
  method: "get",
  path: "/v1/secrets",
  summary: "List the tenant's secrets, newest first (names only, never values)",
  description:
    "Anyone who can read the tenant's settings may list secret names, so members can refer to them " +
    "in agents and workflows; only owners and admins may set or delete them. Names Meridian reserves " +
    "(`meridian_...`) are never listed.",
  security: [{ bearer: [] }],
  request: { query: pageQuery },
  responses: {
    200: { description: "A page of secrets.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListSecrets(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "tenant:read");
    const { limit, cursor } = c.req.valid("query");
    const rows = await listSecretNames(c.get("db"), { limit: limit + 1, after: decodeCursor(cursor) });
    const { items, nextCursor } = toPage(rows, limit);
    // Reserved names are dropped after paging, so the cursor still walks every row: a page
    // holding one may come back one short, never skipping a secret.
    const data = items.filter((s) => !isReservedSecretName(s.name)).map(toSecretResponse);
    return c.json({ data, nextCursor }, 200);
  });
}
