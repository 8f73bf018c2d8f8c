import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { passwordResets, tenants, users } from "../../../db/schema";
import type { App } from "../../app";
import { resolveEmailedToken } from "../../auth/emailed-token";
import { hashPassword } from "../../auth/passwords";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { password } from "../../lib/schemas";
import { runInTenant } from "../../middleware/tenant-db";
import { expireOpenResets, revokeUserSessions } from "../users/credentials";

const body = z
  .object({
    token: z
      .string()
      .min(1)
      .max(256)
      .openapi({ description: "The token from the reset email.", example: "mrp_Zk1xQ8v0Rr2..." }),
    newPassword: password.openapi({ description: "12 to 256 characters." }),
  })
  .strict()
  .openapi("PasswordResetConfirmRequest");

const route = createRoute({
  operationId: "confirmPasswordReset",
  tags: ["auth"],
  method: "post",
  path: "/v1/auth/password-reset/confirm",
  summary: "Set a new password with an emailed reset token; every session ends",
  description:
    "Public: the emailed token is the credential. An unknown, expired or used token (or one whose " +
    "user was disabled or removed since) answers 401 UNAUTHENTICATED with one message, as " +
    "/v1/auth/refresh does. On success all of the user's sessions end; sign in with the new password.",
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    204: { description: "Password set." },
    ...problemResponses(400, 401, 413, 429, 500),
  },
});

export function registerConfirmPasswordReset(app: App) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const config = c.get("config");
    const invalid = new ApiError("UNAUTHENTICATED", {
      detail: "The reset token is invalid, expired or already used.",
    });
    const target = await resolveEmailedToken(c, "password_reset", input.token, invalid);
    // Hashed before the transaction so the row locks below are held for milliseconds, not for PBKDF2.
    const passwordHash = await hashPassword(input.newPassword, config.PASSWORD_PEPPER);
    await runInTenant(c, target.tenantId, async (db) => {
      const [reset] = await db
        .select()
        .from(passwordResets)
        .where(and(eq(passwordResets.tenantId, db.tenantId), eq(passwordResets.id, target.id)))
        .for("update");
      if (!reset || reset.usedAt || reset.expiresAt.getTime() <= Date.now()) throw invalid;
      const [tenant] = await db
        .select({ status: tenants.status })
        .from(tenants)
        .where(eq(tenants.id, db.tenantId));
      const [user] = await db
        .update(users)
        .set({ passwordHash })
        .where(
          and(
            eq(users.tenantId, db.tenantId),
            eq(users.id, reset.userId),
            eq(users.status, "active"),
            isNull(users.deletedAt),
          ),
        )
        .returning({ id: users.id });
      // Throwing rolls the password update back.
      if (!user || tenant?.status !== "active") throw invalid;
      await db.update(passwordResets).set({ usedAt: new Date() }).where(eq(passwordResets.id, reset.id));
      await expireOpenResets(db, user.id);
      const revokedSessions = await revokeUserSessions(db, user.id);
      await audit(c, {
        action: "auth.password_reset",
        resourceType: "user",
        resourceId: user.id,
        changes: { revokedSessions },
        actor: { type: "user", id: user.id },
      });
    });
    return c.body(null, 204);
  });
}
