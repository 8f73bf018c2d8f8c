import { auditLogs } from "../../db/schema";
import type { Context } from "../app";
import type { Principal } from "../auth/principal";

export interface AuditEntry {
  /** `<resource>.<verb>`, e.g. `agent.create`. */
  action: string;
  resourceType: string;
  resourceId: string;
  /** Changed fields with their new values; never secrets or message contents. */
  changes?: Record<string, unknown>;
  /** Who acted, when the request has no principal yet (login, invitation accept). */
  actor?: { type: "user" | "system"; id: string | null };
}

/**
 * Appends an audit row inside the request's transaction, so the record exists exactly when
 * the change does.
 *
 * @example
 * await audit(c, { action: "agent.create", resourceType: "agent", resourceId: agent.id });
 */
function actorOf(principal: Principal): { type: "user" | "api_key" | "platform_admin"; id: string | null } {
  switch (principal.kind) {
    case "user":
      return { type: "user", id: principal.userId };
    case "api_key":
      return { type: "api_key", id: principal.keyId };
    case "platform_admin":
      return { type: "platform_admin", id: null };
  }
}

export async function audit(c: Context, entry: AuditEntry): Promise<void> {
  const db = c.get("db");
  const actor = entry.actor ?? actorOf(c.get("principal"));
  await db.insert(auditLogs).values({
    tenantId: db.tenantId,
    actorType: actor.type,
    actorId: actor.id,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    requestId: c.get("requestId"),
    ip: c.req.header("cf-connecting-ip") ?? null,
    changes: entry.changes ?? null,
  });
}
