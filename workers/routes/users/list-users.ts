import { createRoute, type z } from "@hono/zod-openapi";
import { and, desc, eq, isNull, lt, type SQL } from "drizzle-orm";
import { users } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { role } from "../../auth/roles";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { email } from "../../lib/schemas";
import { toUserResponse, userSchema, userStatus } from "./schemas";

const query = pageQuery.extend({
  role: role.optional().openapi({ description: "Only users with this role." }),
  status: userStatus.optional().openapi({ description: "Only users with this status." }),
  email: email.optional().openapi({ description: "Exact address (case-insensitive)." }),
});

const page = pageOf(userSchema, "UserPage");
export type ListUsersResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listUsers",
  tags: ["users"],
  method: "get",
  path: "/v1/users",
  summary: "List the tenant's users, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of users.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListUsers(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "users:read");
    const { limit, cursor, role, status, email } = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(cursor);
    // The explicit tenant filter duplicates RLS on purpose: it lets the planner use (tenant_id, id).
    const filters: SQL[] = [eq(users.tenantId, db.tenantId), isNull(users.deletedAt)];
    if (after) filters.push(lt(users.id, after));
    if (role) filters.push(eq(users.role, role));
    if (status) filters.push(eq(users.status, status));
    if (email) filters.push(eq(users.email, email));
    const rows = await db
      .select()
      .from(users)
      .where(and(...filters))
      .orderBy(desc(users.id))
      .limit(limit + 1);
    const { items, nextCursor } = toPage(rows, limit);
    return c.json({ data: items.map(toUserResponse), nextCursor }, 200);
  });
}
