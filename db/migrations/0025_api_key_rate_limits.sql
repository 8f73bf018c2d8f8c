ALTER TABLE "api_keys" ADD COLUMN "requests_per_minute" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_requests_per_minute_check" CHECK ("api_keys"."requests_per_minute" > 0);--> statement-breakpoint

-- Rate limits per tenant and per key (docs/api-conventions.md, "Rate limits"). The key lookup
-- that runs on every request with a key also returns the key's own requests per minute and its
-- tenant's raw requestsPerMinute (ceiling and default; the Worker resolves them with the one
-- limits model), so the limiter costs no round trip of its own. The return type changes, so
-- the function is dropped and created again, with 0004's ownership and grants.
DROP FUNCTION meridian_auth_api_key(text);--> statement-breakpoint

-- As in 0005: records the key's last use, at most once a minute. Suspension is not filtered
-- here: the caller reads the tenant row in tenant scope and answers with a specific error.
CREATE FUNCTION meridian_auth_api_key(p_key_hash text)
RETURNS TABLE (
  key_id uuid,
  tenant_id uuid,
  role text,
  expires_at timestamptz,
  revoked_at timestamptz,
  requests_per_minute integer,
  tenant_rpm_ceiling jsonb,
  tenant_rpm_default jsonb
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE api_keys k
     SET last_used_at = now()
   WHERE k.key_hash = p_key_hash
     AND k.revoked_at IS NULL
     AND (k.expires_at IS NULL OR k.expires_at > now())
     AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute');
  RETURN QUERY
  SELECT k.id, k.tenant_id, k.role, k.expires_at, k.revoked_at, k.requests_per_minute,
         t.limits -> 'requestsPerMinute', t.settings -> 'defaultLimits' -> 'requestsPerMinute'
    FROM api_keys k
    JOIN tenants t ON t.id = k.tenant_id
   WHERE k.key_hash = p_key_hash
     AND t.deleted_at IS NULL;
END
$$;--> statement-breakpoint

-- A user session's tenant comes from its token; the Worker asks this once a minute per tenant
-- and isolate (workers/middleware/auth.ts). Only the two raw values; nothing for a deleted tenant.
CREATE FUNCTION meridian_tenant_rate_limit(p_tenant_id uuid)
RETURNS TABLE (rpm_ceiling jsonb, rpm_default jsonb)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT t.limits -> 'requestsPerMinute', t.settings -> 'defaultLimits' -> 'requestsPerMinute'
    FROM tenants t
   WHERE t.id = p_tenant_id
     AND t.deleted_at IS NULL
$$;--> statement-breakpoint

ALTER FUNCTION meridian_auth_api_key(text) OWNER TO meridian_owner;--> statement-breakpoint
ALTER FUNCTION meridian_tenant_rate_limit(uuid) OWNER TO meridian_owner;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_auth_api_key(text) FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON FUNCTION meridian_tenant_rate_limit(uuid) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_auth_api_key(text) TO meridian_app;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION meridian_tenant_rate_limit(uuid) TO meridian_app;
