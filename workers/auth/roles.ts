import { z } from "@hono/zod-openapi";

/** Tenant roles, most to least privileged. */
export const role = z.enum(["owner", "admin", "member", "viewer"]).openapi("Role", {
  description:
    "owner: everything, including ownership transfer. admin: manage users, keys, settings. " +
    "member: build and run agents, workflows, knowledge bases. viewer: read only.",
  example: "member",
});
export type Role = z.infer<typeof role>;

/** Every permission a route can require. Routes declare theirs next to their definition. */
export const permissions = [
  "agents:read",
  "agents:write",
  "conversations:read",
  "conversations:write",
  "api_keys:read",
  "api_keys:write",
  "users:read",
  "users:write",
  "tenant:read",
  "tenant:write",
  "secrets:write",
  "audit_logs:read",
  "webhooks:read",
  "webhooks:write",
  "mcp:read",
  "mcp:execute",
  // Owners and admins only: whoever sets a server's URL and secret decides where the secret goes.
  "mcp:write",
  "rag:read",
  "rag:write",
  // Answers from a knowledge base spend model tokens: members and up, like running an agent.
  "rag:query",
  "workflows:read",
  "workflows:write",
  // Starting, cancelling and approving executions spends tokens and calls tools: members and up.
  "workflows:execute",
  // Costs and who spent them (per user and key): owners and admins only, like the audit trail.
  "usage:read",
] as const;
export type Permission = (typeof permissions)[number];

// The delivery log shows callback URLs, which may carry tokens: not for viewers.
const reads = permissions.filter(
  (p) =>
    p.endsWith(":read") &&
    p !== "audit_logs:read" &&
    p !== "api_keys:read" &&
    p !== "webhooks:read" &&
    p !== "usage:read",
);

const grants: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(permissions),
  admin: new Set(permissions),
  member: new Set<Permission>([
    ...reads,
    "agents:write",
    "conversations:write",
    "api_keys:read",
    "api_keys:write",
    "webhooks:read",
    "mcp:execute",
    "rag:write",
    "rag:query",
    "workflows:write",
    "workflows:execute",
  ]),
  viewer: new Set<Permission>(reads),
};

/** Whether `r` holds `permission`. */
export function can(r: Role, permission: Permission): boolean {
  return grants[r].has(permission);
}

const rank: Record<Role, number> = { owner: 4, admin: 3, member: 2, viewer: 1 };

/** Whether a principal with role `granter` may hand out `granted` (never above its own). */
export function mayGrant(granter: Role, granted: Role): boolean {
  return rank[granter] >= rank[granted];
}
