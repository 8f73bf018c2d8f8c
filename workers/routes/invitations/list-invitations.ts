import { createRoute, type z } from "@hono/zod-openapi";
import { and, desc, eq, gt, isNull, lt, type SQL } from "drizzle-orm";
import { invitations } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { invitationSchema, toInvitationResponse } from "./schemas";

const page = pageOf(invitationSchema, "InvitationPage");
export type ListInvitationsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listInvitations",
  tags: ["invitations"],
  method: "get",
  path: "/v1/invitations",
  summary: "List pending invitations (neither accepted nor expired), newest first",
  security: [{ bearer: [] }],
  request: { query: pageQuery },
  responses: {
    200: { description: "A page of invitations.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListInvitations(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "users:read");
    const { limit, cursor } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    const filters: SQL[] = [
      eq(invitations.tenantId, db.tenantId),
      isNull(invitations.acceptedAt),
      gt(invitations.expiresAt, new Date()),
    ];
    if (after) filters.push(lt(invitations.id, after));
    const rows = await db
      .select()
      .from(invitations)
      .where(and(...filters))
      .orderBy(desc(invitations.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toInvitationResponse), nextCursor }, 200);
  });
}
