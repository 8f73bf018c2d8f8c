import { z } from "@hono/zod-openapi";
import { ACTOR_TYPES } from "../../../db/schema";
import type { AuditLog } from "../../../db/types";
import { iso, timestamp } from "../../lib/schemas";

export const auditLogSchema = z
  .object({
    id: z.string().uuid(),
    actorType: z.enum(ACTOR_TYPES).openapi({ example: "user" }),
    actorId: z.string().nullable().openapi({
      description: "The user or API key id; null for the platform admin and some system actions.",
      example: "0193b2c4-0000-7000-8000-000000000002",
    }),
    action: z.string().openapi({ description: "`<resource>.<verb>`.", example: "agent.create" }),
    resourceType: z.string().nullable().openapi({ example: "agent" }),
    resourceId: z.string().nullable().openapi({ example: "0193b2c4-8f1e-7a3b-9c2d-4e5f6a7b8c9d" }),
    requestId: z
      .string()
      .nullable()
      .openapi({ description: "The `X-Request-Id` of the request that did it.", example: "req_0193..." }),
    ip: z.string().nullable().openapi({ example: "203.0.113.7" }),
    changes: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "What changed; never secret values.", example: { name: "analyst" } }),
    createdAt: timestamp,
  })
  .openapi("AuditLog");
export type AuditLogResponse = z.infer<typeof auditLogSchema>;

export function toAuditLogResponse(row: AuditLog): AuditLogResponse {
  return {
    id: row.id,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    requestId: row.requestId,
    ip: row.ip,
    changes: row.changes as Record<string, unknown> | null,
    createdAt: iso(row.createdAt),
  };
}
