import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { invitations, tenants, users } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { mayGrant, role } from "../../auth/roles";
import { mintOpaqueToken } from "../../auth/sessions";
import { audit } from "../../lib/audit";
import { emailSenderFor } from "../../lib/email";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { email } from "../../lib/schemas";
import { idempotency, idempotencyHeaders } from "../../middleware/idempotency";
import { invitationSchema, toInvitationResponse } from "./schemas";

/** Invitations last a week: long enough for a holiday, short enough that a leaked mailbox goes stale. */
export const INVITATION_TTL_SECONDS = 7 * 24 * 3600;

const body = z
  .object({
    email: email.openapi({
      description: "Where the invitation is sent; becomes the user's sign-in address.",
    }),
    role: role.default("member").openapi({ description: "At most the inviter's own role." }),
  })
  .strict()
  .openapi("CreateInvitationRequest");

const route = createRoute({
  operationId: "createInvitation",
  tags: ["invitations"],
  method: "post",
  path: "/v1/invitations",
  summary: "Invite someone to the tenant by email",
  description:
    "Emails a one-time token, valid for 7 days, that POST /v1/invitations/accept exchanges for an account. " +
    "The token is never returned by the API. Inviting an address again replaces its pending invitation " +
    "(only the newest email works), so a retry is safe; 403 when that pending invitation is to a role " +
    "above the caller's own, which only a caller who may grant that role can replace (or revoke). 409 when " +
    "a user with the address already exists.",
  security: [{ bearer: [] }],
  middleware: [idempotency("users:write")] as const,
  request: {
    headers: idempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    201: { description: "Invited.", content: { "application/json": { schema: invitationSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 429, 500),
  },
});

export type CreateInvitationResponse = z.infer<typeof invitationSchema>;

function invitationText(tenantName: string, invitedRole: string, token: string, expiresAt: Date): string {
  return [
    `You have been invited to join ${tenantName} on Meridian with the ${invitedRole} role.`,
    "",
    `Invitation token: ${token}`,
    "",
    `Accept it with POST /v1/invitations/accept before ${expiresAt.toISOString()}.`,
    "If you did not expect this invitation, ignore this email.",
  ].join("\n");
}

export function registerCreateInvitation(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "users:write");
    const input = c.req.valid("json");
    if (caller.kind !== "platform_admin" && !mayGrant(caller.role, input.role)) {
      throw new ApiError("FORBIDDEN", {
        detail: `A ${caller.role} cannot invite with the ${input.role} role.`,
      });
    }
    const db = c.get("db");
    const [existing] = await db
      .select({ status: users.status })
      .from(users)
      .where(and(eq(users.tenantId, db.tenantId), eq(users.email, input.email), isNull(users.deletedAt)));
    if (existing) {
      throw new ApiError("CONFLICT", {
        detail:
          existing.status === "disabled"
            ? "A disabled user has this address; re-enable that user instead."
            : "A user with this address already belongs to the tenant.",
      });
    }
    const pending = await db
      .select({ id: invitations.id, role: invitations.role })
      .from(invitations)
      .where(
        and(
          eq(invitations.tenantId, db.tenantId),
          eq(invitations.email, input.email),
          isNull(invitations.acceptedAt),
        ),
      )
      .for("update");
    // Replacing deletes, so it must not reach an invitation the caller could not revoke directly.
    if (caller.kind !== "platform_admin") {
      const outranking = pending.find((p) => !mayGrant(caller.role, p.role));
      if (outranking) {
        throw new ApiError("FORBIDDEN", {
          detail: `A ${caller.role} cannot replace a pending invitation with the ${outranking.role} role.`,
        });
      }
    }
    const replaced =
      pending.length > 0
        ? await db
            .delete(invitations)
            .where(
              and(
                eq(invitations.tenantId, db.tenantId),
                inArray(
                  invitations.id,
                  pending.map((p) => p.id),
                ),
              ),
            )
            .returning({ id: invitations.id })
        : [];

    const minted = await mintOpaqueToken("mri");
    const expiresAt = new Date(Date.now() + INVITATION_TTL_SECONDS * 1000);
    const [row] = await db
      .insert(invitations)
      .values({
        tenantId: db.tenantId,
        email: input.email,
        role: input.role,
        tokenHash: minted.hash,
        invitedByUserId: caller.kind === "user" ? caller.userId : null,
        expiresAt,
      })
      .returning();
    if (!row) throw new Error("invitation insert returned no row");
    const [tenant] = await db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, db.tenantId));
    await audit(c, {
      action: "invitation.create",
      resourceType: "invitation",
      resourceId: row.id,
      changes: {
        email: row.email,
        role: row.role,
        ...(replaced.length > 0 ? { replaced: replaced.map((r) => r.id) } : {}),
      },
    });
    // Sent last, inside the transaction: if the mail service refuses, the invitation rolls back
    // rather than existing without a way to accept it.
    await emailSenderFor(c.get("config"), c.get("logger")).send({
      to: row.email,
      subject: "Your Meridian invitation",
      text: invitationText(tenant?.name ?? "a tenant", row.role, minted.token, expiresAt),
    });
    return c.json(toInvitationResponse(row), 201);
  });
}
