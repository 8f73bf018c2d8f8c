import type { Role } from "./roles";

/** Who is calling, as proven by a verified credential. Never built from client-supplied fields. */
export type Principal =
  | {
      kind: "user";
      tenantId: string;
      userId: string;
      role: Role;
      /** Session the access token belongs to; logout revokes it. */
      sessionId: string;
      jti: string;
      /** Token expiry, epoch seconds. */
      expiresAt: number;
    }
  | { kind: "api_key"; tenantId: string; keyId: string; role: Role }
  | { kind: "platform_admin" };

export type TenantPrincipal = Extract<Principal, { tenantId: string }>;

/** A stable id of the credential, for rate-limit and idempotency keys. */
export function credentialKey(p: Principal): string {
  switch (p.kind) {
    case "user":
      return `user:${p.userId}`;
    case "api_key":
      return `key:${p.keyId}`;
    case "platform_admin":
      return "platform_admin";
  }
}

/** The user or API key behind a request, as `created_by` columns record it; null for the platform admin. */
export function principalId(p: Principal): string | null {
  switch (p.kind) {
    case "user":
      return p.userId;
    case "api_key":
      return p.keyId;
    case "platform_admin":
      return null;
  }
}
