import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { sessions } from "../../../db/schema";
import type { App } from "../../app";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";

const route = createRoute({
  operationId: "logout",
  tags: ["auth"],
  method: "post",
  path: "/v1/auth/logout",
  summary: "End the session: the access token and its refresh token stop working at once",
  description:
    "Every authenticated request re-checks its session in the tenant transaction, so revoking the session row is enough.",
  security: [{ bearer: [] }],
  responses: {
    204: { description: "Signed out." },
    ...problemResponses(401, 403, 429, 500),
  },
});

export function registerLogout(app: App) {
  app.openapi(route, async (c) => {
    const principal = c.get("principal");
    if (principal.kind !== "user") {
      throw new ApiError("FORBIDDEN", { detail: "Only user sessions sign out; revoke API keys instead." });
    }
    await c
      .get("db")
      .update(sessions)
      .set({ revokedAt: new Date() })
      .where(eq(sessions.id, principal.sessionId));
    await audit(c, { action: "auth.logout", resourceType: "session", resourceId: principal.sessionId });
    return c.body(null, 204);
  });
}
