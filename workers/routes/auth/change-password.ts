import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { users } from "../../../db/schema";
import type { App } from "../../app";
import { DECOY_HASH, hashPassword, verifyPassword } from "../../auth/passwords";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { applyRateLimit, checkRateLimit } from "../../lib/rate-limit";
import { password } from "../../lib/schemas";
import { expireOpenResets, revokeUserSessions } from "../users/credentials";
import { loadUser } from "../users/load";

const body = z
  .object({
    currentPassword: z
      .string()
      .min(1)
      .max(256)
      .openapi({ description: "The password in use now.", example: "correct horse battery staple" }),
    newPassword: password.openapi({
      description: "12 to 256 characters.",
      example: "staple battery horse correct",
    }),
  })
  .strict()
  .openapi("ChangePasswordRequest");

const route = createRoute({
  operationId: "changePassword",
  tags: ["auth"],
  method: "post",
  path: "/v1/auth/password",
  summary: "Change the signed-in user's password; every other session ends",
  description:
    "Only for a user's own session (an API key gets 403). A wrong currentPassword answers 403 FORBIDDEN, " +
    "not 401: the access token is valid, and clients treat 401 as 'sign in again' (refresh or log out), " +
    "which a mistyped password must not trigger. This session stays signed in; the user's other refresh " +
    "tokens and access tokens stop working on their next request. Attempts are rate-limited per user.",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    204: { description: "Changed." },
    ...problemResponses(400, 401, 403, 413, 429, 500),
  },
});

export function registerChangePassword(app: App) {
  app.openapi(route, async (c) => {
    const principal = c.get("principal");
    if (principal.kind !== "user") {
      throw new ApiError("FORBIDDEN", { detail: "Only a signed-in user changes their own password." });
    }
    const input = c.req.valid("json");
    const config = c.get("config");
    // Guessing the current password with a stolen access token is bounded like guessing it at login.
    applyRateLimit(
      c,
      "login",
      await checkRateLimit(
        config,
        c.get("logger"),
        "login",
        `password:${principal.tenantId}:${principal.userId}`,
      ),
    );
    const db = c.get("db");
    const user = await loadUser(db, principal.userId, { forUpdate: true }).catch((error) => {
      if (error instanceof ApiError && error.code === "NOT_FOUND") {
        throw new ApiError("UNAUTHENTICATED", { detail: "The signed-in user no longer exists." });
      }
      throw error;
    });
    const ok = await verifyPassword(
      input.currentPassword,
      user.passwordHash ?? DECOY_HASH,
      config.PASSWORD_PEPPER,
    );
    if (!ok || !user.passwordHash) {
      throw new ApiError("FORBIDDEN", {
        detail: "The current password is wrong.",
        errors: [{ path: "currentPassword", message: "does not match" }],
      });
    }
    const passwordHash = await hashPassword(input.newPassword, config.PASSWORD_PEPPER);
    await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    const revokedSessions = await revokeUserSessions(db, user.id, { exceptSessionId: principal.sessionId });
    await expireOpenResets(db, user.id);
    await audit(c, {
      action: "auth.password_change",
      resourceType: "user",
      resourceId: user.id,
      changes: { revokedSessions },
    });
    return c.body(null, 204);
  });
}
