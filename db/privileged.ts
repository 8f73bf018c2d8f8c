/**
 * The privileged path: the only queries that run before a tenant is known or across
 * tenants. Each calls one SECURITY DEFINER function (see the privileged-path migration)
 * that returns just what its caller needs. Only auth and housekeeping import this module.
 */
import type { Client } from "@neondatabase/serverless";

export interface LoginCandidate {
  tenantId: string;
  tenantStatus: string;
  userId: string;
  passwordHash: string;
  role: string;
  status: string;
}

/** The user a login names (tenant slug + email), or null. */
export async function findLoginCandidate(
  client: Client,
  tenantSlug: string,
  email: string,
): Promise<LoginCandidate | null> {
  const { rows } = await client.query(
    `select tenant_id, tenant_status, user_id, password_hash, role, status from meridian_auth_user($1, $2)`,
    [tenantSlug, email.toLowerCase()],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    tenantId: row.tenant_id,
    tenantStatus: row.tenant_status,
    userId: row.user_id,
    passwordHash: row.password_hash,
    role: row.role,
    status: row.status,
  };
}

/**
 * A tenant's raw `requestsPerMinute` settings: its ceiling (`tenants.limits`) and its default
 * (`settings.defaultLimits`), each null when unset. The caller resolves them with `effectiveLimits`.
 */
export interface TenantRateLimitSettings {
  ceiling: number | null;
  default: number | null;
}

export interface ApiKeyRecord {
  keyId: string;
  tenantId: string;
  role: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  /** The key's own requests per minute, or null for the tenant's. */
  requestsPerMinute: number | null;
  tenantRequestsPerMinute: TenantRateLimitSettings;
}

/** A jsonb value as the driver parsed it: a positive number is a limit, anything else is unset. */
function limitValue(value: unknown): number | null {
  return typeof value === "number" && value > 0 ? value : null;
}

/**
 * The API key with this hash, or null. Records the key's last use (at most once a minute).
 * Returns the key's and its tenant's rate limits too, so auth needs no second round trip.
 */
export async function findApiKey(client: Client, keyHash: string): Promise<ApiKeyRecord | null> {
  const { rows } = await client.query(
    `select key_id, tenant_id, role, expires_at, revoked_at, requests_per_minute, tenant_rpm_ceiling, tenant_rpm_default
       from meridian_auth_api_key($1)`,
    [keyHash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    keyId: row.key_id,
    tenantId: row.tenant_id,
    role: row.role,
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    requestsPerMinute: limitValue(row.requests_per_minute),
    tenantRequestsPerMinute: {
      ceiling: limitValue(row.tenant_rpm_ceiling),
      default: limitValue(row.tenant_rpm_default),
    },
  };
}

/**
 * A tenant's `requestsPerMinute` settings, for rate-limiting a user session whose tenant this
 * isolate has not seen lately; both null for an unknown or deleted tenant.
 */
export async function findTenantRateLimit(
  client: Client,
  tenantId: string,
): Promise<TenantRateLimitSettings> {
  const { rows } = await client.query("select rpm_ceiling, rpm_default from meridian_tenant_rate_limit($1)", [
    tenantId,
  ]);
  const row = rows[0];
  return { ceiling: limitValue(row?.rpm_ceiling), default: limitValue(row?.rpm_default) };
}

/** Hard-deletes rows soft-deleted more than `olderThanDays` ago; returns counts per table. */
export async function purgeSoftDeleted(
  client: Client,
  olderThanDays: number,
): Promise<{ table: string; purged: number }[]> {
  const { rows } = await client.query(
    `select table_name, purged from meridian_purge_soft_deleted(make_interval(days => $1))`,
    [olderThanDays],
  );
  return rows.map((row) => ({ table: String(row.table_name), purged: Number(row.purged) }));
}

/**
 * Deletes a soft-deleted tenant's rows and anonymises what retention keeps (audit rows, usage
 * events and rollups); rows affected per step. A live tenant raises; a gone one returns zeros.
 */
export async function eraseTenantRows(
  client: Client,
  tenantId: string,
): Promise<{ table: string; affected: number }[]> {
  const { rows } = await client.query("select table_name, affected from meridian_erase_tenant($1)", [
    tenantId,
  ]);
  return rows.map((row) => ({ table: String(row.table_name), affected: Number(row.affected) }));
}

/** Tenants soft-deleted more than `olderThanDays` ago, oldest first, at most `limit` (ids only). */
export async function tenantsDueForErasure(
  client: Client,
  olderThanDays: number,
  limit: number,
): Promise<string[]> {
  const { rows } = await client.query(
    "select tenant_id from meridian_tenants_due_for_erasure(make_interval(days => $1), $2)",
    [olderThanDays, limit],
  );
  return rows.map((row) => String(row.tenant_id));
}

/** Deletes raw usage events older than `olderThanDays` (their rollups stay); how many. */
export async function purgeUsageEvents(client: Client, olderThanDays: number): Promise<number> {
  const { rows } = await client.query(
    "select meridian_purge_usage_events(make_interval(days => $1)) as purged",
    [olderThanDays],
  );
  return Number(rows[0]?.purged ?? 0);
}

/** Returns expired model-call holds to their tenants' budgets; how many it released. */
export async function releaseExpiredReservations(client: Client): Promise<number> {
  const { rows } = await client.query("select meridian_release_expired_reservations() as released");
  return Number(rows[0]?.released ?? 0);
}

/** Tenants with an active remote MCP server, for the scheduled health check (ids only). */
export async function listMcpHealthTenants(client: Client, limit = 10_000): Promise<string[]> {
  const { rows } = await client.query("select tenant_id from meridian_mcp_health_tenants($1)", [limit]);
  return rows.map((row) => String(row.tenant_id));
}

export interface StaleDocument {
  tenantId: string;
  documentId: string;
  generation: number;
  status: string;
  attempts: number;
}

/** Documents whose ingestion has not moved for `staleAfterSeconds`, oldest first (ids and counters only). */
export async function listStaleDocuments(
  client: Client,
  staleAfterSeconds: number,
  limit = 1000,
): Promise<StaleDocument[]> {
  const { rows } = await client.query(
    "select tenant_id, document_id, generation, status, attempts from meridian_rag_stale_documents(make_interval(secs => $1), $2)",
    [staleAfterSeconds, limit],
  );
  return rows.map((row) => ({
    tenantId: String(row.tenant_id),
    documentId: String(row.document_id),
    generation: Number(row.generation),
    status: String(row.status),
    attempts: Number(row.attempts),
  }));
}

export interface SessionRecord {
  sessionId: string;
  tenantId: string;
  userId: string;
  /** The hash looked up by: the rotation compares against it. */
  refreshHash: string;
  expiresAt: Date;
  revokedAt: Date | null;
  /** The token presented was this session's previous one: it has been used before. */
  reused: boolean;
}

/** The session a refresh token belongs to (now or before its last rotation), or null. */
export async function findSession(client: Client, refreshHash: string): Promise<SessionRecord | null> {
  const { rows } = await client.query(
    `select session_id, tenant_id, user_id, expires_at, revoked_at, reused from meridian_auth_session($1)`,
    [refreshHash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    sessionId: row.session_id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    refreshHash,
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    reused: row.reused === true,
  };
}

/** The tenant and row an invitation or password-reset token names, or null. */
export async function findTokenTarget(
  client: Client,
  kind: "invitation" | "password_reset",
  tokenHash: string,
): Promise<{ tenantId: string; id: string } | null> {
  const { rows } = await client.query(`select tenant_id, id from meridian_auth_token($1, $2)`, [
    kind,
    tokenHash,
  ]);
  const row = rows[0];
  return row ? { tenantId: row.tenant_id, id: row.id } : null;
}

export interface MetricGaugeRow {
  metric: string;
  label: string;
  value: number;
}

/** The scrape-time gauges, summed over all tenants (counts by status; no ids). */
export async function readMetricGauges(client: Client): Promise<MetricGaugeRow[]> {
  const { rows } = await client.query("select metric, label, value from meridian_metrics_gauges()");
  return rows.map((row) => ({
    metric: String(row.metric),
    label: String(row.label),
    value: Number(row.value),
  }));
}

/**
 * Active tenants with a billing webhook URL, for the hourly usage-rollup report (ids only): a
 * page of at most `limit` in id order after `after` (null: the first page).
 */
export async function listBillingWebhookTenants(
  client: Client,
  after: string | null,
  limit = 1000,
): Promise<string[]> {
  const { rows } = await client.query("select tenant_id from meridian_billing_webhook_tenants($1, $2)", [
    after,
    limit,
  ]);
  return rows.map((row) => String(row.tenant_id));
}
