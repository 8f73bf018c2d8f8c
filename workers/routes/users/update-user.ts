import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { users } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { mayGrant, role } from "../../auth/roles";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import {
  expireOpenResets,
  type RevokedDelegations,
  revokeDelegations,
  revokeUserSessions,
} from "./credentials";
import { assertKeepsAnOwner, assertMayManage, loadUser, lockActiveOwners } from "./load";
import { toUserResponse, userSchema } from "./schemas";

const body = z
  .object({
    role: role.optional().openapi({ description: "At most the caller's own role." }),
    status: z.enum(["active", "disabled"]).optional().openapi({
      description: "disabled: the user cannot sign in and every session ends.",
      example: "disabled",
    }),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "send at least one field")
  .openapi("UpdateUserRequest");

const route = createRoute({
  operationId: "updateUser",
  tags: ["users"],
  method: "patch",
  path: "/v1/users/{id}",
  summary: "Change a user's role or status",
  description:
    "A caller cannot grant a role above its own, nor change a user who outranks it (403). The tenant's " +
    "last active owner cannot be demoted or disabled (409). Disabling ends all of the user's sessions " +
    "(refresh and access tokens stop working on their next request), revokes the API keys they created " +
    "and deletes the invitations they sent that are still pending. Demoting revokes those of their keys, " +
    "and deletes those of their pending invitations, whose role is above the new one.",
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: uuidParam("id", "user") }),
    body: { required: true, content: { "application/json": { schema: body } } },
  },
  responses: {
    200: { description: "The updated user.", content: { "application/json": { schema: userSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 429, 500),
  },
});

export type UpdateUserResponse = z.infer<typeof userSchema>;

export function registerUpdateUser(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "users:write");
    const input = c.req.valid("json");
    if (input.role && caller.kind !== "platform_admin" && !mayGrant(caller.role, input.role)) {
      throw new ApiError("FORBIDDEN", { detail: `A ${caller.role} cannot grant the ${input.role} role.` });
    }
    const db = c.get("db");
    const owners = await lockActiveOwners(db);
    const current = await loadUser(db, c.req.valid("param").id, { forUpdate: true });
    assertMayManage(caller, current);

    const next = { role: input.role ?? current.role, status: input.status ?? current.status };
    if (next.role === current.role && next.status === current.status) {
      return c.json(toUserResponse(current), 200);
    }
    assertKeepsAnOwner(owners, current, next.role === "owner" && next.status === "active");

    const [updated] = await db.update(users).set(next).where(eq(users.id, current.id)).returning();
    if (!updated) throw new ApiError("NOT_FOUND", { detail: `User ${current.id} not found.` });
    let revokedSessions = 0;
    let revoked: RevokedDelegations = { apiKeys: [], invitations: [] };
    if (next.status === "disabled" && current.status !== "disabled") {
      revokedSessions = await revokeUserSessions(db, current.id);
      await expireOpenResets(db, current.id);
      revoked = await revokeDelegations(db, current.id);
    } else if (!mayGrant(next.role, current.role)) {
      revoked = await revokeDelegations(db, current.id, { above: next.role });
    }
    await audit(c, {
      action: "user.update",
      resourceType: "user",
      resourceId: current.id,
      changes: {
        ...(next.role !== current.role ? { role: next.role } : {}),
        ...(next.status !== current.status ? { status: next.status } : {}),
        ...(revokedSessions > 0 ? { revokedSessions } : {}),
        ...(revoked.apiKeys.length > 0 ? { revokedApiKeys: revoked.apiKeys } : {}),
        ...(revoked.invitations.length > 0 ? { deletedInvitations: revoked.invitations } : {}),
      },
    });
    return c.json(toUserResponse(updated), 200);
  });
}
