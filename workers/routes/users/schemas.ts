import { z } from "@hono/zod-openapi";
import { USER_STATUSES } from "../../../db/schema";
import type { User } from "../../../db/types";
import { role } from "../../auth/roles";
import { iso, timestamp } from "../../lib/schemas";

export const userStatus = z.enum(USER_STATUSES).openapi("UserStatus", {
  description: "active: may sign in. disabled: may not; sessions were revoked. invited: not yet signed up.",
  example: "active",
});

export const userSchema = z
  .object({
    id: z.string().uuid().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    email: z
      .string()
      .openapi({ description: "Lower-cased; unique among the tenant's users.", example: "ada@example.com" }),
    name: z.string().nullable().openapi({ example: "Ada Lovelace" }),
    role,
    status: userStatus,
    lastLoginAt: timestamp.nullable().openapi({ description: "Last password sign-in; null if never." }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .openapi("User");
export type UserResponse = z.infer<typeof userSchema>;

/** Field by field, so a new column (the password hash above all) never leaks by accident. */
export function toUserResponse(row: User): UserResponse {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    lastLoginAt: row.lastLoginAt ? iso(row.lastLoginAt) : null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}
