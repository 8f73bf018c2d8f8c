import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { invitations, tenants, users } from "../../../db/schema";
import type { App } from "../../app";
import { resolveEmailedToken } from "../../auth/emailed-token";
import { issueSession } from "../../auth/issue-session";
import { hashPassword } from "../../auth/passwords";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { isUniqueViolation } from "../../lib/pg-errors";
import { problemResponses } from "../../lib/problem-responses";
import { password } from "../../lib/schemas";
import { runInTenant } from "../../middleware/tenant-db";
import { tokenPairSchema } from "../auth/schemas";

const body = z
  .object({
    token: z
      .string()
      .min(1)
      .max(256)
      .openapi({ description: "The token from the invitation email.", example: "mri_3q2-7wEfN0b1x..." }),
    name: z.string().trim().min(1).max(200).optional().openapi({ example: "Ada Lovelace" }),
    password: password.openapi({ description: "The new account's password: 12 to 256 characters." }),
  })
  .strict()
  .openapi("AcceptInvitationRequest");

const route = createRoute({
  operationId: "acceptInvitation",
  tags: ["invitations"],
  method: "post",
  path: "/v1/invitations/accept",
  summary: "Accept an invitation: create the account and sign in",
  description:
    "Public: the emailed token is the credential. An unknown, revoked, expired or already used token " +
    "answers 401 UNAUTHENTICATED with one message, as /v1/auth/refresh does for refresh tokens, so the " +
    "answer never tells which (nor which tenant a token belongs to). 409 when a user with the invited " +
    "address has been created meanwhile.",
  request: { body: { required: true, content: { "application/json": { schema: body } } } },
  responses: {
    201: {
      description: "Account created and signed in.",
      content: { "application/json": { schema: tokenPairSchema } },
    },
    ...problemResponses(400, 401, 409, 413, 429, 500),
  },
});

export function registerAcceptInvitation(app: App) {
  app.openapi(route, async (c) => {
    const input = c.req.valid("json");
    const config = c.get("config");
    const invalid = new ApiError("UNAUTHENTICATED", {
      detail: "The invitation is invalid, expired or already used.",
    });
    const target = await resolveEmailedToken(c, "invitation", input.token, invalid);
    // Hashed before the transaction so the row locks below are held for milliseconds, not for PBKDF2.
    const passwordHash = await hashPassword(input.password, config.PASSWORD_PEPPER);
    try {
      const pair = await runInTenant(c, target.tenantId, async (db) => {
        const [invitation] = await db
          .select()
          .from(invitations)
          .where(and(eq(invitations.tenantId, db.tenantId), eq(invitations.id, target.id)))
          .for("update");
        if (!invitation || invitation.acceptedAt || invitation.expiresAt.getTime() <= Date.now()) {
          throw invalid;
        }
        const [tenant] = await db
          .select({ status: tenants.status })
          .from(tenants)
          .where(eq(tenants.id, db.tenantId));
        // A suspended tenant refuses sign-in (see login), so it refuses new accounts the same way.
        if (tenant?.status !== "active") throw invalid;
        const [taken] = await db
          .select({ id: users.id })
          .from(users)
          .where(
            and(eq(users.tenantId, db.tenantId), eq(users.email, invitation.email), isNull(users.deletedAt)),
          );
        if (taken) {
          throw new ApiError("CONFLICT", { detail: "A user with the invited address already exists." });
        }

        const [user] = await db
          .insert(users)
          .values({
            tenantId: db.tenantId,
            email: invitation.email,
            name: input.name ?? null,
            passwordHash,
            role: invitation.role,
            status: "active",
            lastLoginAt: new Date(),
          })
          .returning({ id: users.id, role: users.role });
        if (!user) throw new Error("user insert returned no row");
        await db.update(invitations).set({ acceptedAt: new Date() }).where(eq(invitations.id, invitation.id));
        await audit(c, {
          action: "invitation.accept",
          resourceType: "user",
          resourceId: user.id,
          changes: { invitationId: invitation.id, role: user.role },
          actor: { type: "user", id: user.id },
        });
        return issueSession(c, db, { userId: user.id, role: user.role });
      });
      return c.json(pair, 201);
    } catch (error) {
      // Two accepts racing for the same address: the unique index decides, the loser gets 409.
      if (isUniqueViolation(error, "users_tenant_id_email_key")) {
        throw new ApiError("CONFLICT", { detail: "A user with the invited address already exists." });
      }
      throw error;
    }
  });
}
