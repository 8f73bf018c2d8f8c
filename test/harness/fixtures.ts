import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Role } from "../../workers/auth/roles";
import type { CreatedApiKeyResponse } from "../../workers/routes/api-keys/schemas";
import type { TokenPair } from "../../workers/routes/auth/schemas";
import type { CreateTenantResponse } from "../../workers/routes/tenants/create-tenant";
import { api } from "./api";

export const PLATFORM_ADMIN_TOKEN = (env as unknown as { PLATFORM_ADMIN_TOKEN: string }).PLATFORM_ADMIN_TOKEN;

export interface TenantFixture {
  tenant: CreateTenantResponse["tenant"];
  owner: { id: string; email: string; password: string };
  /** The owner's access token. */
  token: string;
  tokens: TokenPair;
  /** An API key of this tenant with the given role. */
  keyWithRole(role: Role): Promise<string>;
}

let counter = 0;

/**
 * A fresh tenant with an owner who is signed in. Every test makes its own, so tests never
 * share rows and nothing needs truncating.
 */
export async function createTenant(
  opts: { limits?: Record<string, number>; settings?: Record<string, unknown> } = {},
): Promise<TenantFixture> {
  const slug = `t-${crypto.randomUUID().slice(0, 8)}-${++counter}`;
  const password = `pw-${crypto.randomUUID()}`;
  const email = `owner@${slug}.example.com`;
  const created = await api.post<CreateTenantResponse>("/v1/tenants", {
    token: PLATFORM_ADMIN_TOKEN,
    body: { slug, name: `Tenant ${slug}`, owner: { email, password }, ...opts },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const login = await api.post<TokenPair>("/v1/auth/login", { body: { tenant: slug, email, password } });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  const token = login.body.accessToken;
  return {
    tenant: created.body.tenant,
    owner: { id: created.body.owner.id, email, password },
    token,
    tokens: login.body,
    async keyWithRole(role: Role) {
      const res = await api.post<CreatedApiKeyResponse>("/v1/api-keys", {
        token,
        body: { name: `${role} key`, role },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.key;
    },
  };
}
