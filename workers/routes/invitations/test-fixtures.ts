import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { type ConnectionConfig, connect } from "../../../db/client";
import { type TenantDb, withTenant } from "../../../db/tenant";
import { api, randomIp } from "../../../test/harness/api";
import type { Role } from "../../auth/roles";
import { takeSentEmails } from "../../lib/email";
import type { TokenPair } from "../auth/schemas";
import type { CreateInvitationResponse } from "./create-invitation";

/** Test helpers for flows that start with an invitation; imported only by tests. */

export const INVITATION_TOKEN = /\bmri_[A-Za-z0-9_-]{43}\b/;
export const RESET_TOKEN = /\bmrp_[A-Za-z0-9_-]{43}\b/;

/** The header of a fresh client address, for calls that set their own headers. */
export function freshIp(): Record<string, string> {
  return { "cf-connecting-ip": randomIp() };
}

/** A public POST (no credential) from a fresh client address. */
export function publicPost<T = unknown>(path: string, body: unknown) {
  return api.post<T>(path, { body, headers: freshIp() });
}

/** An address no other test uses, so its mail in the shared outbox is this test's alone. */
export function uniqueEmail(label = "user"): string {
  return `${label}-${crypto.randomUUID().slice(0, 12)}@example.com`;
}

/** Takes the one message the dev sender "sent" to `to` and extracts its token. */
export function tokenFromOutbox(to: string, pattern: RegExp): string {
  const mails = takeSentEmails(to);
  expect(mails, `mail to ${to}`).toHaveLength(1);
  const token = mails[0]?.text.match(pattern)?.[0];
  expect(token, "token in the mail").toBeDefined();
  return token as string;
}

/** Invites `email` with `credential` (a user token or an API key) and reads the token from the outbox. */
export async function invite(
  credential: string,
  email: string,
  role: Role,
): Promise<{ invitation: CreateInvitationResponse; token: string }> {
  const res = await api.post<CreateInvitationResponse>("/v1/invitations", {
    token: credential,
    body: { email, role },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { invitation: res.body, token: tokenFromOutbox(email, INVITATION_TOKEN) };
}

export interface InvitedUser {
  id: string;
  email: string;
  password: string;
  tokens: TokenPair;
}

/** A signed-in user of `role`, added to the tenant through the real invitation flow. */
export async function addUser(ownerToken: string, role: Role): Promise<InvitedUser> {
  const email = uniqueEmail(role);
  const password = `pw-${crypto.randomUUID()}`;
  const { token } = await invite(ownerToken, email, role);
  const accepted = await publicPost<TokenPair>("/v1/invitations/accept", { token, password });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
  const me = await api.get<{ data: { id: string }[] }>(`/v1/users?email=${encodeURIComponent(email)}`, {
    token: ownerToken,
  });
  const id = me.body.data[0]?.id;
  expect(id).toBeDefined();
  return { id: id as string, email, password, tokens: accepted.body };
}

/**
 * Runs `fn` in a tenant transaction on a connection of its own, as the Worker would: for
 * backdating expiries and reading audit rows, which no API route exposes to these tests.
 */
export async function asTenant<T>(tenantId: string, fn: (db: TenantDb) => Promise<T>): Promise<T> {
  const client = await connect(env as unknown as ConnectionConfig);
  try {
    return await withTenant(client, tenantId, fn);
  } finally {
    await client.end();
  }
}
