import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { invitations } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { mayGrant } from "../../auth/roles";
import { audit } from "../../lib/audit";
import { ApiError } from "../../lib/errors";
import { problemResponses } from "../../lib/problem-responses";
import { uuidParam } from "../../lib/schemas";
import { loadInvitation } from "./load";

const route = createRoute({
  operationId: "revokeInvitation",
  tags: ["invitations"],
  method: "delete",
  path: "/v1/invitations/{id}",
  summary: "Revoke an invitation; its emailed token stops working at once",
  description:
    "Deletes the invitation (the audit log keeps the record). 409 when it was already accepted: " +
    "manage the user instead. A caller cannot revoke an invitation to a role above its own (403).",
  security: [{ bearer: [] }],
  request: { params: z.object({ id: uuidParam("id", "invitation") }) },
  responses: {
    204: { description: "Revoked." },
    ...problemResponses(400, 401, 403, 404, 409, 429, 500),
  },
});

export function registerRevokeInvitation(app: App) {
  app.openapi(route, async (c) => {
    const caller = authorize(c, "users:write");
    const db = c.get("db");
    const invitation = await loadInvitation(db, c.req.valid("param").id, { forUpdate: true });
    if (caller.kind !== "platform_admin" && !mayGrant(caller.role, invitation.role)) {
      throw new ApiError("FORBIDDEN", {
        detail: `A ${caller.role} cannot revoke an invitation with the ${invitation.role} role.`,
      });
    }
    if (invitation.acceptedAt) {
      throw new ApiError("CONFLICT", {
        detail: "The invitation was already accepted; manage the user instead.",
      });
    }
    await db.delete(invitations).where(eq(invitations.id, invitation.id));
    await audit(c, {
      action: "invitation.revoke",
      resourceType: "invitation",
      resourceId: invitation.id,
      changes: { email: invitation.email },
    });
    return c.body(null, 204);
  });
}
