import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import { auditLogs } from "../../../db/schema";
import type { App } from "../../app";
import { authorize } from "../../auth/authorize";
import { decodeCursor, pageOf, pageQuery, toPage } from "../../lib/pagination";
import { problemResponses } from "../../lib/problem-responses";
import { auditLogSchema, toAuditLogResponse } from "./schemas";

const instant = z.string().datetime({ offset: true });

const query = pageQuery
  .extend({
    action: z.string().max(128).optional().openapi({ description: "Exact action.", example: "agent.create" }),
    resourceType: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: "Exact resource type.", example: "agent" }),
    resourceId: z
      .string()
      .max(128)
      .optional()
      .openapi({ description: "Exact resource id.", example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    actorId: z.string().max(128).optional().openapi({
      description: "Exact actor (user or API key) id.",
      example: "0193b2c4-0000-7000-8000-000000000002",
    }),
    since: instant.optional().openapi({
      description: "Entries at or after this instant (ISO 8601).",
      example: "2026-11-01T00:00:00Z",
    }),
    until: instant
      .optional()
      .openapi({ description: "Entries before this instant (ISO 8601).", example: "2026-12-01T00:00:00Z" }),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
    message: "must be after since",
    path: ["until"],
  });

const page = pageOf(auditLogSchema, "AuditLogPage");
export type ListAuditLogsResponse = z.infer<typeof page>;

const route = createRoute({
  operationId: "listAuditLogs",
  tags: ["audit-logs"],
  method: "get",
  path: "/v1/audit-logs",
  summary: "List the tenant's audit trail, newest first",
  security: [{ bearer: [] }],
  request: { query },
  responses: {
    200: { description: "A page of audit entries.", content: { "application/json": { schema: page } } },
    ...problemResponses(400, 401, 403, 429, 500),
  },
});

export function registerListAuditLogs(app: App) {
  app.openapi(route, async (c) => {
    authorize(c, "audit_logs:read");
    const q = c.req.valid("query");
    const db = c.get("db");
    const after = decodeCursor(q.cursor);
    const filters: SQL[] = [eq(auditLogs.tenantId, db.tenantId)];
    if (after) filters.push(lt(auditLogs.id, after));
    if (q.action) filters.push(eq(auditLogs.action, q.action));
    if (q.resourceType) filters.push(eq(auditLogs.resourceType, q.resourceType));
    if (q.resourceId) filters.push(eq(auditLogs.resourceId, q.resourceId));
    if (q.actorId) filters.push(eq(auditLogs.actorId, q.actorId));
    if (q.since) filters.push(gte(auditLogs.createdAt, new Date(q.since)));
    if (q.until) filters.push(lt(auditLogs.createdAt, new Date(q.until)));
    const rows = await db
      .select()
      .from(auditLogs)
      .where(and(...filters))
      .orderBy(desc(auditLogs.id))
      .limit(q.limit + 1);
    const { items, nextCursor } = toPage(rows, q.limit);
    return c.json({ data: items.map(toAuditLogResponse), nextCursor }, 200);
  });
}
