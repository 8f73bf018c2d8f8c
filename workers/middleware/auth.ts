import { createMiddleware } from "hono/factory";
import { findApiKey } from "../../db/privileged";
import type { Context, HonoEnv } from "../app";
import { hashApiKey, looksLikeApiKey } from "../auth/api-keys";
import { verifyAccessToken } from "../auth/jwt";
import type { Principal } from "../auth/principal";
import { role as roleSchema } from "../auth/roles";
import { timingSafeEqualText } from "../lib/bytes";
import { requestConnection } from "../lib/connection";
import { ApiError } from "../lib/errors";
import { applyRateLimit, checkRateLimit, deniedVerdict, knownDenied } from "../lib/rate-limit";

function unauthenticated(detail: string): ApiError {
  return new ApiError("UNAUTHENTICATED", { detail });
}

/** Tenant of each API key hash this isolate has resolved (a key never changes tenant). */
const keyTenants = new Map<string, string>();

function rememberKeyTenant(hash: string, tenantId: string): void {
  if (keyTenants.size >= 10_000) {
    const oldest = keyTenants.keys().next().value;
    if (oldest !== undefined) keyTenants.delete(oldest);
  }
  keyTenants.set(hash, tenantId);
}

/**
 * Refuses a credential this isolate already saw over its limit before anything else is
 * counted: the tenant's shared limit is not charged for requests that would be refused anyway.
 *
 * @throws ApiError RATE_LIMITED
 */
function refuseIfKnownDenied(c: Context, credentialId: string): void {
  if (!knownDenied("credential", credentialId)) return;
  applyRateLimit(c, "credential", deniedVerdict("credential", credentialId));
}

/**
 * Starts opening the request's database connection while the rate limiter answers: the
 * handshake overlaps the Redis hop, and no query runs before the verdict. A caller this
 * isolate already saw denied gets no connection at all.
 */
function overlapConnection(c: Context, credentialId: string): void {
  if (knownDenied("credential", credentialId)) return;
  requestConnection(c).catch(() => undefined);
}

/**
 * Authenticates `Authorization: Bearer <jwt | api key | platform admin token>`, rate-limits
 * the credential before any query runs, and sets `principal`. Tenant and role come only
 * from the verified credential.
 */
export function authenticate() {
  return createMiddleware<HonoEnv>(async function authMiddleware(c, next) {
    const header = c.req.header("authorization");
    const match = header?.match(/^Bearer ([\x21-\x7e]{1,4096})$/);
    if (!match?.[1]) throw unauthenticated("Send Authorization: Bearer <token or API key>.");
    const credential = match[1];
    const config = c.get("config");
    const logger = c.get("logger");
    let principal: Principal;

    if (await timingSafeEqualText(credential, config.PLATFORM_ADMIN_TOKEN)) {
      overlapConnection(c, "platform_admin");
      applyRateLimit(c, "credential", await checkRateLimit(config, logger, "credential", "platform_admin"));
      principal = { kind: "platform_admin" };
    } else if (looksLikeApiKey(credential)) {
      const hash = await hashApiKey(credential);
      const id = `key:${hash}`;
      overlapConnection(c, id);
      // A key's tenant never changes, so once seen both limits go out in one parallel hop.
      refuseIfKnownDenied(c, id);
      const knownTenant = keyTenants.get(hash);
      const [perCredential, perTenant] = await Promise.all([
        checkRateLimit(config, logger, "credential", id),
        knownTenant ? checkRateLimit(config, logger, "tenant", knownTenant) : undefined,
      ]);
      applyRateLimit(c, "credential", perCredential);
      if (perTenant) applyRateLimit(c, "tenant", perTenant);
      const record = await findApiKey(await requestConnection(c), hash);
      const now = Date.now();
      if (!record || record.revokedAt || (record.expiresAt && record.expiresAt.getTime() <= now)) {
        // A dead key must not go on charging its former tenant's limit from this isolate.
        keyTenants.delete(hash);
        throw unauthenticated("The API key is invalid, expired or revoked.");
      }
      if (!knownTenant) {
        rememberKeyTenant(hash, record.tenantId);
        applyRateLimit(c, "tenant", await checkRateLimit(config, logger, "tenant", record.tenantId));
      }
      principal = {
        kind: "api_key",
        tenantId: record.tenantId,
        keyId: record.keyId,
        role: roleSchema.parse(record.role),
      };
    } else {
      const user = await verifyAccessToken(config, credential);
      refuseIfKnownDenied(c, `user:${user.userId}`);
      overlapConnection(c, `user:${user.userId}`);
      // Tenant known from the token: both limits in one parallel hop. Whether the session is
      // still live is checked in the tenant transaction's opening round trip (tenantDb).
      const [perCredential, perTenant] = await Promise.all([
        checkRateLimit(config, logger, "credential", `user:${user.userId}`),
        checkRateLimit(config, logger, "tenant", user.tenantId),
      ]);
      applyRateLimit(c, "credential", perCredential);
      applyRateLimit(c, "tenant", perTenant);
      principal = user;
    }

    c.set("principal", principal);
    c.set("logger", logger.with({ tenantId: "tenantId" in principal ? principal.tenantId : undefined }));
    await next();
  });
}
