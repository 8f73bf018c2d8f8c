import { z } from "@hono/zod-openapi";
import type { Invitation } from "../../../db/types";
import { role } from "../../auth/roles";
import { iso, timestamp } from "../../lib/schemas";

export const invitationSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    email: z.string().openapi({
      description: "Lower-cased address the invitation was sent to.",
      example: "ada@example.com",
    }),
    role: role.openapi({ description: "The role the new user gets on accepting." }),
    invitedByUserId: z
      .string()
      .uuid()
      .nullable()
      .openapi({ description: "The inviting user; null when an API key invited." }),
    expiresAt: timestamp.openapi({ description: "After this the emailed token no longer works." }),
    createdAt: timestamp,
  })
  .openapi("Invitation");
export type InvitationResponse = z.infer<typeof invitationSchema>;

/** Never the token hash: the token itself exists only in the email. */
export function toInvitationResponse(row: Invitation): InvitationResponse {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    invitedByUserId: row.invitedByUserId,
    expiresAt: iso(row.expiresAt),
    createdAt: iso(row.createdAt),
  };
}
