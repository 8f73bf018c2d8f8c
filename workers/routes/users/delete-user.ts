import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { users } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { audit } from "../../lib/audit";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { expireOpenResets, revokeDelegations, revokeUserSessions } from "./credentials";
import { assertKeepsAnOwner, assertMayManage, loadUser, lockActiveOwners } from "./load";

const route = createRoute({
  operationId: "deleteUser",
  tags: ["users"],
  method: "delete",
  path: "/v1/users/{id}",
  summary: "Remove a user from the tenant",
  description:
    "Soft delete: the user can no longer sign in, every session ends, the API keys they created are " +
    "revoked and the invitations they sent that are still pending are deleted; the address may be invited " +
    "again. The tenant's last active owner cannot be removed (409); nor can a user who outranks the caller (403).",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "user") }) },
  responses: {
    204: { description: "Removed." },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

export function registerDeleteUser(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "users:write");
    const db = c.get("db");
    const owners = await lockActiveOwners(db);
    const user = await loadUser(db, c.req.valid("param").id, { forUpdate: true });
    assertMayManage(caller, user);
    assertKeepsAnOwner(owners, user, false);
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, user.id));
    const revokedSessions = await revokeUserSessions(db, user.id);
    await expireOpenResets(db, user.id);
    const revoked = await revokeDelegations(db, user.id);
    await audit(c, {
      action: "user.delete",
      resourceType: "user",
      resourceId: user.id,
      changes: {
        revokedSessions,
        revokedApiKeys: revoked.apiKeys,
        deletedInvitations: revoked.invitations,
      },
    });
    return c.body(null, 204);
  });
}
