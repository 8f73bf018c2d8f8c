import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { deleteSecret } from "../../lib/secrets";
import { secretNameParam } from "./schemas";

const route = createRoute({
  operationId: "deleteSecret",
  tags: ["secrets"],
  method: "delete",
  path: "/v1/secrets/{name}",
  summary: "Delete a secret (permanently: set it again to bring it back)",
  security: [{ bearer: [] }],
  request: { params: z.object({ name: secretNameParam }) },
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(400, 401, 403, 404, 429, 500),
  },
});

export function registerDeleteSecret(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "secrets:write");
    const { name } = c.req.valid("param");
    if (!(await deleteSecret(c.get("db"), name)))
      throw new ApiError("NOT_FOUND", { detail: `Secret ${name} not found.` });
    await audit(c, { action: "secret.delete", resourceType: "secret", resourceId: name });
    return c.body(null, 204);
  });
}
