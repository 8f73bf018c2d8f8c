import { createMiddleware } from "hono/factory";
import { findApiKey, findTenantRateLimit, type TenantRateLimitSettings } from "../../db/privileged";
import type { Context, HonoEnv } from "../app";
import { hashApiKey, looksLikeApiKey } from "../auth/api-keys";
import { verifyAccessToken } from "../auth/jwt";
import type { Principal } from "../auth/principal";
import { role as roleSchema } from "../auth/roles";
import { timingSafeEqualText } from "../lib/bytes";
import { requestConnection } from "../lib/connection";
import { ApiError } from "../lib/errors";
import { effectiveLimits, PLATFORM_DEFAULTS } from "../lib/limits";
import {
  applyRateLimit,
  checkRateLimit,
  deniedVerdict,
  knownDenied,
  rememberBounded,
  tenantRateLimits,
} from "../lib/rate-limit";

function unauthenticated(detail: string): ApiError {
  return new ApiError("UNAUTHENTICATED", { detail });
}

/** Entries per isolate-lifetime map below. */
const MEMORY = 10_000;

/** A credential's tenant and the two limits it is counted against. */
interface CredentialLimits {
  tenantId: string;
  credential: number;
  tenant: number;
}

/**
 * What this isolate last learned about each API key hash it resolved. A key never changes
 * tenant, and every request's key lookup returns the limits afresh, so a change to them
 * reaches the key's next request here.
 */
const keyLimits = new Map<string, CredentialLimits>();

/**
 * Each tenant's effective requests per minute, for user sessions: their tenant comes from the
 * token, so nothing else on their path reads the database before the limiter. A change made by
 * the tenant's admins or the platform admin reaches this isolate within the TTL.
 */
const tenantRpm = new Map<string, { rpm: number; expiresAt: number }>();
const TENANT_RPM_TTL_MS = 60_000;

/** The one limits model resolves the raw settings: ceiling -> tenant default -> platform default. */
function effectiveRpm(settings: TenantRateLimitSettings): number {
  return effectiveLimits({
    ceiling: { requestsPerMinute: settings.ceiling ?? undefined },
    defaults: { requestsPerMinute: settings.default ?? undefined },
  }).requestsPerMinute;
}

function rememberTenantRpm(tenantId: string, rpm: number): void {
  rememberBounded(tenantRpm, tenantId, { rpm, expiresAt: Date.now() + TENANT_RPM_TTL_MS }, MEMORY);
}

/**
 * The tenant's requests per minute: from this isolate's memory, else one privileged query. If
 * that query fails, the platform default applies, unremembered (the limiter fails open as it
 * does without Redis): the request then meets the database's failure where its principal is
 * known, so the error is answered and reported with its tenant.
 */
async function tenantRequestsPerMinute(c: Context, tenantId: string): Promise<number> {
  const cached = tenantRpm.get(tenantId);
  if (cached && cached.expiresAt > Date.now()) return cached.rpm;
  let settings: TenantRateLimitSettings;
  try {
    settings = await findTenantRateLimit(await requestConnection(c), tenantId);
  } catch (error) {
    c.get("logger").warn("tenant rate limit unavailable; using the platform default", {
      error: error instanceof Error ? error.message : String(error),
    });
    return PLATFORM_DEFAULTS.requestsPerMinute;
  }
  const rpm = effectiveRpm(settings);
  rememberTenantRpm(tenantId, rpm);
  return rpm;
}

/**
 * Counts the request against the credential's and its tenant's limits in one parallel hop.
 *
 * @throws ApiError RATE_LIMITED
 */
async function limitCredential(c: Context, credentialId: string, limits: CredentialLimits): Promise<void> {
  const config = c.get("config");
  const logger = c.get("logger");
  const [perCredential, perTenant] = await Promise.all([
    checkRateLimit(config, logger, "credential", credentialId, limits.credential),
    checkRateLimit(config, logger, "tenant", limits.tenantId, limits.tenant),
  ]);
  applyRateLimit(c, "credential", perCredential);
  applyRateLimit(c, "tenant", perTenant);
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
 * handshake overlaps the Redis hop. A caller this isolate already saw denied gets no
 * connection at all.
 */
function overlapConnection(c: Context, credentialId: string): void {
  if (knownDenied("credential", credentialId)) return;
  requestConnection(c).catch(() => undefined);
}

/**
 * Authenticates an API key. A key this isolate knows is limited while it is looked up: the
 * Redis hop overlaps the connection handshake and the lookup, so neither waits for the other. A
 * flood of one key costs the database at most one lookup per request until this isolate has
 * seen it denied; from then on it is refused before anything (`refuseIfKnownDenied`). An
 * unknown key's limits come with its lookup, so it is limited just after it: the lookup it
 * waits for is the one every request makes anyway.
 *
 * @throws ApiError UNAUTHENTICATED, RATE_LIMITED
 */
async function authenticateApiKey(c: Context, credential: string): Promise<Principal> {
  const hash = await hashApiKey(credential);
  const id = `key:${hash}`;
  overlapConnection(c, id);
  refuseIfKnownDenied(c, id);
  const known = keyLimits.get(hash);
  const lookup = requestConnection(c).then((client) => findApiKey(client, hash));
  if (known) {
    try {
      await limitCredential(c, id, known);
    } catch (error) {
      // Refused: the 429 waits for the lookup in flight, so the connection is not closed under
      // it, and answers without its outcome.
      await lookup.catch(() => undefined);
      throw error;
    }
  }
  const record = await lookup;
  const now = Date.now();
  if (!record || record.revokedAt || (record.expiresAt && record.expiresAt.getTime() <= now)) {
    // A dead key must not go on charging its former tenant's limit from this isolate.
    keyLimits.delete(hash);
    // Counted all the same, so that retrying a dead key is throttled before its lookup too.
    if (!known) {
      const config = c.get("config");
      applyRateLimit(c, "credential", await checkRateLimit(config, c.get("logger"), "credential", id));
    }
    throw unauthenticated("The API key is invalid, expired or revoked.");
  }
  const rpm = effectiveRpm(record.tenantRequestsPerMinute);
  rememberTenantRpm(record.tenantId, rpm);
  const limits = { tenantId: record.tenantId, ...tenantRateLimits(rpm, record.requestsPerMinute) };
  rememberBounded(keyLimits, hash, limits, MEMORY);
  if (!known) await limitCredential(c, id, limits);
  return {
    kind: "api_key",
    tenantId: record.tenantId,
    keyId: record.keyId,
    role: roleSchema.parse(record.role),
  };
}

/**
 * Authenticates `Authorization: Bearer <jwt | api key | platform admin token>`, rate-limits
 * the credential against its tenant's limits (docs/api-conventions.md) and sets `principal`.
 * Tenant and role come only from the verified credential.
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
      principal = await authenticateApiKey(c, credential);
    } else {
      const user = await verifyAccessToken(config, credential);
      const id = `user:${user.userId}`;
      refuseIfKnownDenied(c, id);
      overlapConnection(c, id);
      // Tenant known from the token: both limits in one parallel hop. Whether the session is
      // still live is checked in the tenant transaction's opening round trip (tenantDb).
      const rpm = await tenantRequestsPerMinute(c, user.tenantId);
      await limitCredential(c, id, { tenantId: user.tenantId, ...tenantRateLimits(rpm) });
      principal = user;
    }

    c.set("principal", principal);
    c.set("logger", logger.with({ tenantId: "tenantId" in principal ? principal.tenantId : undefined }));
    await next();
  });
}
