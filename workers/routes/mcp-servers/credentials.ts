import type { z } from "@hono/zod-openapi";
import type { TenantDb } from "../../../db/tenant";
import {
  encodeInlineCredential,
  isManagedSecretName,
  managedSecretName,
  secretExists,
} from "../../../mcp/client/credentials";
import { ApiError } from "../../lib/errors";
import { deleteSecret, putSecret, type SecretsConfig } from "../../lib/secrets";

/** The auth fields of a create or update body. */
export interface AuthFields {
  authSecretName?: string | null | undefined;
  authToken?: string | null | undefined;
  headers?: Record<string, string> | null | undefined;
}

/** What a body says about the credential: nothing (keep it), none, a named secret, or an inline one. */
export type AuthChange =
  | { kind: "keep" }
  | { kind: "none" }
  | { kind: "secret"; name: string }
  | { kind: "inline"; token: string | undefined; headers: Record<string, string> | undefined };

/** Reads the auth fields: any of them present replaces the credential as a whole. */
export function authChangeOf(body: AuthFields): AuthChange {
  const present = ["authSecretName", "authToken", "headers"].some(
    (k) => k in body && body[k as keyof AuthFields] !== undefined,
  );
  if (!present) return { kind: "keep" };
  if (body.authSecretName) return { kind: "secret", name: body.authSecretName };
  const headers = body.headers && Object.keys(body.headers).length > 0 ? body.headers : undefined;
  const token = body.authToken ?? undefined;
  if (!token && !headers) return { kind: "none" };
  return { kind: "inline", token, headers };
}

/** zod refinement shared by create and update: a named secret excludes an inline credential. */
export function refineAuth(body: AuthFields, ctx: z.RefinementCtx): void {
  if (body.authSecretName && (body.authToken || body.headers)) {
    ctx.addIssue({
      code: "custom",
      path: ["authSecretName"],
      message:
        "authSecretName excludes authToken and headers: name a secret or send the credential, not both",
    });
  }
}

/**
 * Stores the credential a change asks for and returns the server's new `authSecretName`. An inline
 * credential goes into the server's managed secret (`meridian_mcp_<id>`); moving away from one
 * deletes it, so no credential outlives its use.
 *
 * @throws ApiError UNPROCESSABLE when a named secret does not exist.
 */
export async function applyAuthChange(
  db: TenantDb,
  config: SecretsConfig,
  serverId: string,
  current: string | null,
  change: Exclude<AuthChange, { kind: "keep" }>,
): Promise<string | null> {
  const managed = managedSecretName(serverId);
  switch (change.kind) {
    case "inline":
      await putSecret(db, config, managed, encodeInlineCredential(change));
      return managed;
    case "secret":
      if (!(await secretExists(db, change.name))) {
        throw new ApiError("UNPROCESSABLE", {
          detail: `The secret ${change.name} does not exist; create it with PUT /v1/secrets/${change.name} first.`,
        });
      }
      if (current && isManagedSecretName(current)) await deleteSecret(db, current);
      return change.name;
    case "none":
      if (current && isManagedSecretName(current)) await deleteSecret(db, current);
      return null;
  }
}

/** How an audit entry describes a credential, never its value. */
export function authKind(secretName: string | null): "none" | "secret" | "inline" {
  if (secretName === null) return "none";
  return isManagedSecretName(secretName) ? "inline" : "secret";
}
